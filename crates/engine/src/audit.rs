//! What the audit log records: one typed action per kind of change, so
//! no call site spells an action by hand. The names are what the log
//! has always stored (and what `GET /api/v1/audit` shows and filters).

/// A kind of change recorded in the audit log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// The data directory was created (`init`).
    Init,
    /// A hosted CA was created.
    CaCreate,
    /// A CA's resources changed.
    CaUpdate,
    /// A CA was deleted.
    CaDelete,
    /// A ROA payload was added.
    RoaAdd,
    /// A ROA payload was removed.
    RoaRemove,
    /// Due manifests, CRLs and objects were reissued.
    Publish,
    /// An API token was created.
    TokenCreate,
    /// An API token was revoked.
    TokenRevoke,
    /// A delegated child was added (RFC 8183).
    ChildAdd,
    /// A delegated child's resources changed.
    ChildUpdate,
    /// A delegated child was removed.
    ChildRemove,
    /// A delegated child was issued a certificate (RFC 6492).
    ChildIssue,
    /// A delegated child's key was revoked (RFC 6492).
    ChildRevoke,
    /// A remote parent was added (RFC 8183).
    ParentAdd,
    /// A sync with a remote parent changed something (RFC 6492).
    ParentSync,
    /// A remote repository was added (RFC 8183).
    RepositoryAdd,
    /// A publisher was added (RFC 8183).
    PublisherAdd,
    /// A publisher was removed.
    PublisherRemove,
    /// A publisher changed its objects (RFC 8181).
    PublisherDelta,
}

impl Action {
    /// Every action.
    pub const ALL: [Action; 20] = [
        Action::Init,
        Action::CaCreate,
        Action::CaUpdate,
        Action::CaDelete,
        Action::RoaAdd,
        Action::RoaRemove,
        Action::Publish,
        Action::TokenCreate,
        Action::TokenRevoke,
        Action::ChildAdd,
        Action::ChildUpdate,
        Action::ChildRemove,
        Action::ChildIssue,
        Action::ChildRevoke,
        Action::ParentAdd,
        Action::ParentSync,
        Action::RepositoryAdd,
        Action::PublisherAdd,
        Action::PublisherRemove,
        Action::PublisherDelta,
    ];

    /// The action's name as stored in the audit log.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Init => "init",
            Action::CaCreate => "ca create",
            Action::CaUpdate => "ca update",
            Action::CaDelete => "ca delete",
            Action::RoaAdd => "roa add",
            Action::RoaRemove => "roa remove",
            Action::Publish => "publish",
            Action::TokenCreate => "token create",
            Action::TokenRevoke => "token revoke",
            Action::ChildAdd => "child add",
            Action::ChildUpdate => "child update",
            Action::ChildRemove => "child remove",
            Action::ChildIssue => "child issue",
            Action::ChildRevoke => "child revoke",
            Action::ParentAdd => "parent add",
            Action::ParentSync => "parent sync",
            Action::RepositoryAdd => "repository add",
            Action::PublisherAdd => "publisher add",
            Action::PublisherRemove => "publisher remove",
            Action::PublisherDelta => "publisher delta",
        }
    }

    /// The action stored as `name`.
    pub fn parse(name: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.as_str() == name)
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The stored names never change: audit logs of older data
    /// directories must read the same.
    #[test]
    fn names_are_stable_and_round_trip() {
        let names: Vec<&str> = Action::ALL.iter().map(|a| a.as_str()).collect();
        assert_eq!(
            names,
            [
                "init",
                "ca create",
                "ca update",
                "ca delete",
                "roa add",
                "roa remove",
                "publish",
                "token create",
                "token revoke",
                "child add",
                "child update",
                "child remove",
                "child issue",
                "child revoke",
                "parent add",
                "parent sync",
                "repository add",
                "publisher add",
                "publisher remove",
                "publisher delta"
            ]
        );
        for a in Action::ALL {
            assert_eq!(Action::parse(a.as_str()), Some(a));
        }
        assert_eq!(Action::parse("roa  add"), None);
    }
}
