//! The group file's `[consensus]` section: when the members who have not answered a call or
//! poll are reminded before it closes.

/// Reminders before a call or poll closes, in minutes before the close (largest first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsensusPolicy {
    pub reminder_minutes_before: Vec<u32>,
}

impl Default for ConsensusPolicy {
    fn default() -> Self {
        // Three days leave an organization time to consult; the last day catches the rest.
        ConsensusPolicy {
            reminder_minutes_before: vec![3 * 24 * 60, 24 * 60],
        }
    }
}
