//! The bot's files are its owner's alone: the data folder holds the database (every message
//! received), the Matrix stores (encryption keys) and the session file (an access token). Folders
//! are made 0700 and files 0600 when they are created, by an explicit mode rather than the
//! process's umask, and the ones that exist already are tightened at start, so a data folder
//! made by an older version, or by hand, is closed too.

use std::io;
use std::path::Path;

/// Owner-only folder mode.
pub const PRIVATE_FOLDER_MODE: u32 = 0o700;
/// Owner-only file mode.
pub const PRIVATE_FILE_MODE: u32 = 0o600;

/// Creates `path` and its missing parents owner-only, and makes `path` itself owner-only if it
/// existed (unless it is a shared folder with the sticky bit, such as /tmp). Parents that
/// existed are left as they are: they may be shared folders.
pub fn make_private_folder(path: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, PRIVATE_FOLDER_MODE);
    builder.create(path)?;
    if is_sticky(&std::fs::metadata(path)?) {
        return Ok(());
    }
    set_mode(path, PRIVATE_FOLDER_MODE)
}

/// Creates the file if it is missing, owner-only, and makes it owner-only if it exists.
pub fn make_private_file(path: &Path) -> io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, PRIVATE_FILE_MODE);
    options.open(path)?;
    set_mode(path, PRIVATE_FILE_MODE)
}

/// Makes an existing file owner-only; a missing one is not an error.
pub fn tighten_file(path: &Path) -> io::Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(metadata) if metadata.is_file() => set_mode(path, PRIVATE_FILE_MODE),
        Ok(_) => Ok(()),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(error) => Err(error),
    }
}

/// Makes the data folder and everything in it owner-only (folders 0700, files 0600). Symbolic
/// links are not followed. A folder with the sticky bit (such as /tmp, set as the data folder
/// by mistake) is shared by nature and is left alone, as is anything under it.
pub fn tighten_private_tree(path: &Path) -> io::Result<()> {
    let metadata = match std::fs::symlink_metadata(path) {
        Ok(metadata) => metadata,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(error) => return Err(error),
    };
    if metadata.is_file() {
        return set_mode(path, PRIVATE_FILE_MODE);
    }
    if !metadata.is_dir() || is_sticky(&metadata) {
        return Ok(());
    }
    set_mode(path, PRIVATE_FOLDER_MODE)?;
    for entry in std::fs::read_dir(path)? {
        tighten_private_tree(&entry?.path())?;
    }
    Ok(())
}

#[cfg(unix)]
fn is_sticky(metadata: &std::fs::Metadata) -> bool {
    std::os::unix::fs::PermissionsExt::mode(&metadata.permissions()) & 0o1000 != 0
}

#[cfg(not(unix))]
fn is_sticky(_metadata: &std::fs::Metadata) -> bool {
    false
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let current = std::fs::metadata(path)?.permissions().mode() & 0o7777;
    if current == mode {
        return Ok(());
    }
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) -> io::Result<()> {
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
    }

    #[test]
    fn folders_and_files_are_owner_only_whatever_they_were() {
        let root = tempfile::tempdir().unwrap();
        let data = root.path().join("data");
        // Made with the widest modes a umask of 000 would give.
        std::fs::create_dir_all(data.join("matrix/store")).unwrap();
        std::fs::write(data.join("rapporteur.db"), b"").unwrap();
        std::fs::write(data.join("matrix/session.json"), b"{}").unwrap();
        for (path, wide) in [
            (data.clone(), 0o777),
            (data.join("matrix"), 0o755),
            (data.join("matrix/store"), 0o775),
            (data.join("rapporteur.db"), 0o666),
            (data.join("matrix/session.json"), 0o644),
        ] {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(wide)).unwrap();
        }
        tighten_private_tree(&data).unwrap();
        let expected = [
            (data.clone(), 0o700),
            (data.join("matrix"), 0o700),
            (data.join("matrix/store"), 0o700),
            (data.join("rapporteur.db"), 0o600),
            (data.join("matrix/session.json"), 0o600),
        ];
        for (path, wanted) in expected {
            assert_eq!(mode(&path), wanted, "{}", path.display());
        }
    }

    #[test]
    fn new_folders_and_files_are_owner_only() {
        let root = tempfile::tempdir().unwrap();
        let folder = root.path().join("a/b");
        make_private_folder(&folder).unwrap();
        assert_eq!(mode(&folder), 0o700);
        assert_eq!(mode(&root.path().join("a")), 0o700);
        let file = folder.join("f.db");
        make_private_file(&file).unwrap();
        assert_eq!(mode(&file), 0o600);
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        tighten_file(&file).unwrap();
        assert_eq!(mode(&file), 0o600);
        tighten_file(&folder.join("missing")).unwrap();
    }

    #[test]
    fn a_sticky_shared_folder_is_left_alone() {
        let root = tempfile::tempdir().unwrap();
        let shared = root.path().join("shared");
        std::fs::create_dir(&shared).unwrap();
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o1777)).unwrap();
        tighten_private_tree(&shared).unwrap();
        assert_eq!(mode(&shared), 0o1777);
    }
}
