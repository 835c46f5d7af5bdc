//! The systemd unit in `deploy/`: `systemd-analyze verify` accepts it (with the unit's binary
//! path pointing at the binary under test), and `systemd-analyze security` rates its exposure
//! "OK" or better (below 2.0 here; the closing note of issue 16 records the score).

mod support;

use std::process::Command;

fn unit_for_this_build(folder: &std::path::Path) -> std::path::PathBuf {
    let unit = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/deploy/rapporteur.service"
    ))
    .expect("the unit file");
    assert!(unit.contains("ExecStart=/usr/local/bin/rapporteur "));
    let path = folder.join("rapporteur.service");
    std::fs::write(
        &path,
        unit.replace(
            "/usr/local/bin/rapporteur",
            env!("CARGO_BIN_EXE_rapporteur"),
        ),
    )
    .expect("write the unit");
    path
}

fn systemd_analyze() -> bool {
    let present = Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success());
    assert!(
        present || !support::servers_required(),
        "systemd-analyze is missing (Debian's systemd package)"
    );
    present
}

#[test]
fn the_unit_verifies_and_its_exposure_is_ok() {
    if !systemd_analyze() {
        eprintln!("skipped: no systemd-analyze");
        return;
    }
    let folder = tempfile::tempdir().expect("temp dir");
    let unit = unit_for_this_build(folder.path());
    let verified = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&unit)
        .output()
        .expect("systemd-analyze verify");
    let said = String::from_utf8_lossy(&verified.stderr).into_owned();
    assert!(verified.status.success(), "{said}");
    assert!(
        !said.contains("Unknown key") && !said.contains("ignoring"),
        "every line of the unit is understood: {said}"
    );

    let security = Command::new("systemd-analyze")
        .args(["security", "--offline=yes", "--no-pager"])
        .arg(&unit)
        .output()
        .expect("systemd-analyze security");
    let report = String::from_utf8_lossy(&security.stdout).into_owned()
        + String::from_utf8_lossy(&security.stderr).as_ref();
    let score: f64 = report
        .lines()
        .find_map(|line| {
            line.split("Overall exposure level for rapporteur.service:")
                .nth(1)
        })
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|number| number.parse().ok())
        .unwrap_or_else(|| panic!("no exposure level in: {report}"));
    assert!(score < 2.0, "exposure {score}: {report}");
}
