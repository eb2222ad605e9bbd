//! The storm's vocabulary: the kinds of operation it fires (with the answers each may
//! give), and the record of one request sent and what came back.

use crate::multiprocess::api::{Answer, Outcome};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Create,
    CreateActivate,
    Activate,
    Rollback,
    Archive,
    Delete,
    EditEndpoint,
    AddEndpoint,
    RemoveEndpoint,
    EditAugmentation,
    ReadActive,
    ListReleases,
}

impl Kind {
    pub fn label(self) -> &'static str {
        match self {
            Kind::Create => "create",
            Kind::CreateActivate => "create+activate",
            Kind::Activate => "activate",
            Kind::Rollback => "rollback",
            Kind::Archive => "archive",
            Kind::Delete => "delete",
            Kind::EditEndpoint => "draft: patch endpoint",
            Kind::AddEndpoint => "draft: add endpoint",
            Kind::RemoveEndpoint => "draft: delete endpoint",
            Kind::EditAugmentation => "draft: patch augmentation",
            Kind::ReadActive => "read: get active",
            Kind::ListReleases => "read: list releases",
        }
    }

    /// The operation for a roll of 0..100.
    pub fn from_roll(roll: usize) -> Self {
        match roll {
            0..=13 => Kind::Create,
            14..=21 => Kind::CreateActivate,
            22..=42 => Kind::Activate,
            43..=55 => Kind::Rollback,
            56..=64 => Kind::Archive,
            65..=73 => Kind::Delete,
            74..=79 => Kind::EditEndpoint,
            80..=84 => Kind::AddEndpoint,
            85..=87 => Kind::RemoveEndpoint,
            88..=93 => Kind::EditAugmentation,
            94..=96 => Kind::ReadActive,
            _ => Kind::ListReleases,
        }
    }

    /// The statuses this operation may answer, and the 409 reasons it may give.
    pub fn allowed(self) -> (&'static [u16], &'static [&'static str]) {
        match self {
            Kind::Create | Kind::CreateActivate | Kind::AddEndpoint => (&[201], &[]),
            Kind::Activate => (&[200, 404], &[]),
            Kind::Rollback => (
                &[200, 404, 409],
                &[
                    "no_active_release",
                    "release_never_active",
                    "release_not_older_than_active",
                ],
            ),
            Kind::Archive | Kind::Delete => (&[200, 404, 409], &["release_is_deployed"]),
            Kind::EditEndpoint | Kind::RemoveEndpoint | Kind::EditAugmentation => (&[200], &[]),
            Kind::ReadActive => (&[200, 404], &[]),
            Kind::ListReleases => (&[200], &[]),
        }
    }

    pub fn is_switch(self) -> bool {
        matches!(self, Kind::Activate | Kind::Rollback)
    }

    pub fn action(self) -> &'static str {
        match self {
            Kind::Rollback => "rollback",
            _ => "activate",
        }
    }
}

/// One request sent and what came back.
#[derive(Debug)]
pub struct Record {
    /// The operation's number in the storm, or `None` for setup.
    pub index: Option<usize>,
    pub kind: Kind,
    pub server: usize,
    pub app: usize,
    /// The release (or endpoint) the operation named.
    pub target: Option<String>,
    /// The tag a create sent.
    pub tag: Option<String>,
    pub outcome: Outcome,
}

impl Record {
    pub fn describe(&self) -> String {
        let name = match self.index {
            Some(index) => format!("op #{index}"),
            None => "setup".to_owned(),
        };
        let target = self
            .target
            .as_deref()
            .or(self.tag.as_deref())
            .unwrap_or("-");
        format!(
            "{name} {} {target} on app {} via server {}",
            self.kind.label(),
            self.app,
            self.server
        )
    }

    pub fn answer(&self) -> Option<&Answer> {
        self.outcome.as_ref().ok()
    }

    pub fn status(&self) -> Option<u16> {
        self.answer().map(|answer| answer.status)
    }

    /// A 200 activate/rollback that says it changed something.
    pub fn changed_switch(&self) -> bool {
        self.kind.is_switch()
            && self.status() == Some(200)
            && !self
                .answer()
                .and_then(|answer| answer.body["message"].as_str())
                .unwrap_or("")
                .contains("already active")
    }
}
