//! API tokens: how secrets are made and digested, the stored token record, and the
//! authenticated caller ([`Principal`]) with the checks every request goes through.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::ids::{OrgId, TokenId, WorkspaceId};
use crate::permission::{Grants, Permission};
use crate::timestamp::Timestamp;

/// Every token secret starts with this, so leaked tokens are easy to recognise.
pub const SECRET_PREFIX: &str = "cut_";
/// How many characters of the secret are kept in clear as `prefix`.
pub const DISPLAY_PREFIX_CHARS: usize = 12;

/// The name and `created_by` of the token registered from `CUTOVER_BOOTSTRAP_TOKEN`;
/// a start with another configured secret retires the platform tokens that carry both.
pub const BOOTSTRAP_TOKEN_NAME: &str = "bootstrap";
/// The actor recorded for the tokens a server makes at start (bootstrap, first start).
pub const BOOTSTRAP_ACTOR: &str = "bootstrap";

/// A fresh secret: `cut_` and 256 random bits in base32 (52 characters).
pub fn generate_secret() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system's random source failed");
    format!("{SECRET_PREFIX}{}", crate::ids::encode_bytes(&bytes))
}

/// The SHA-256 digest under which a secret is stored; the secret itself never is.
pub fn digest_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// The readable start of a secret, shown in listings so people can tell tokens apart.
pub fn display_prefix(secret: &str) -> String {
    secret.chars().take(DISPLAY_PREFIX_CHARS).collect()
}

/// A token as stored and listed (never with its secret).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Token {
    pub token_id: TokenId,
    /// `None` for platform tokens, which may create organisations.
    #[serde(skip)]
    pub org_id: Option<OrgId>,
    pub name: String,
    pub prefix: String,
    pub permissions: Vec<String>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub workspace_ids: Option<Vec<WorkspaceId>>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub expires_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub created_by: String,
    #[serde(skip)]
    pub revoked_at: Option<Timestamp>,
}

/// What a new token will be allowed to do, already parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct NewToken {
    pub name: String,
    pub permissions: Vec<String>,
    pub workspace_ids: Option<Vec<WorkspaceId>>,
    pub expires_at: Option<Timestamp>,
}

/// Why a caller may not do something; rendered as 403 (or 404 across orgs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denial {
    /// The resource lives in another org: answer as if it did not exist.
    OtherOrg,
    MissingPermission(Permission),
    /// The token is limited to other workspaces.
    OutsideWorkspaces {
        permission: Permission,
        workspace_id: WorkspaceId,
    },
    /// Only platform tokens may do this.
    PlatformOnly(Permission),
    /// A minted token would outlive the caller's own (which expires at this instant).
    OutlivesCaller {
        expires_at: Timestamp,
    },
}

/// What a token creation asked for its expiry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestedExpiry {
    /// No `expires_at` in the body: never under a caller that never expires, else the
    /// caller's own expiry.
    Omitted,
    /// `expires_at: null`: never expires.
    Never,
    At(Timestamp),
}

/// The authenticated caller of one request.
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    pub token_id: TokenId,
    pub org_id: Option<OrgId>,
    pub grants: Grants,
    pub workspace_ids: Option<Vec<WorkspaceId>>,
    /// When the caller's own token expires, if it does.
    pub expires_at: Option<Timestamp>,
}

impl Principal {
    pub fn from_token(token: &Token) -> Self {
        Self {
            token_id: token.token_id.clone(),
            org_id: token.org_id.clone(),
            grants: Grants::from_words(&token.permissions),
            workspace_ids: token.workspace_ids.clone(),
            expires_at: token.expires_at,
        }
    }

    /// The actor recorded in `created_by`, `activated_by` and the history.
    pub fn actor(&self) -> String {
        self.token_id.to_string()
    }

    pub fn is_platform(&self) -> bool {
        self.org_id.is_none()
    }

    pub fn sees_org(&self, org_id: &OrgId) -> bool {
        self.org_id.as_ref().is_none_or(|own| own == org_id)
    }

    pub fn sees_workspace(&self, workspace_id: &WorkspaceId) -> bool {
        self.workspace_ids
            .as_ref()
            .is_none_or(|allowed| allowed.contains(workspace_id))
    }

    /// Checks that the caller may use `permission` in `org_id`, and, for resources
    /// inside a workspace, in `workspace_id`.
    pub fn authorize(
        &self,
        permission: Permission,
        org_id: Option<&OrgId>,
        workspace_id: Option<&WorkspaceId>,
    ) -> Result<(), Denial> {
        if org_id.is_some_and(|org_id| !self.sees_org(org_id)) {
            return Err(Denial::OtherOrg);
        }
        if !self.grants.allows(permission) {
            return Err(Denial::MissingPermission(permission));
        }
        if let Some(workspace_id) = workspace_id.filter(|ws| !self.sees_workspace(ws)) {
            return Err(Denial::OutsideWorkspaces {
                permission,
                workspace_id: workspace_id.clone(),
            });
        }
        Ok(())
    }

    /// Checks that a token this caller mints holds nothing the caller lacks. A
    /// workspace-limited caller mints only tokens within its workspaces (a non-empty
    /// subset), the tokens it can then see and revoke ([`Self::may_manage`]).
    pub fn may_mint(&self, new_token: &NewToken) -> Result<(), Denial> {
        let wanted = Grants::from_words(&new_token.permissions);
        if let Some(missing) = self.grants.first_missing(&wanted) {
            return Err(Denial::MissingPermission(missing));
        }
        if let Some(own) = &self.workspace_ids {
            let requested = new_token.workspace_ids.as_deref().unwrap_or_default();
            if requested.is_empty() {
                return Err(Denial::OutsideWorkspaces {
                    permission: Permission::TokensManage,
                    workspace_id: own.first().cloned().unwrap_or_else(WorkspaceId::generate),
                });
            }
            if let Some(outside) = requested.iter().find(|ws| !own.contains(ws)) {
                return Err(Denial::OutsideWorkspaces {
                    permission: Permission::TokensManage,
                    workspace_id: outside.clone(),
                });
            }
        }
        Ok(())
    }

    /// The expiry of a token this caller mints: a token never outlives the one that
    /// minted it, so under an expiring caller an omitted expiry inherits the caller's
    /// and an explicit later one, or `null` (never), is refused.
    pub fn child_expiry(&self, requested: RequestedExpiry) -> Result<Option<Timestamp>, Denial> {
        let Some(own) = self.expires_at else {
            return Ok(match requested {
                RequestedExpiry::At(at) => Some(at),
                RequestedExpiry::Omitted | RequestedExpiry::Never => None,
            });
        };
        match requested {
            RequestedExpiry::Omitted => Ok(Some(own)),
            RequestedExpiry::At(at) if at <= own => Ok(Some(at)),
            RequestedExpiry::At(_) | RequestedExpiry::Never => {
                Err(Denial::OutlivesCaller { expires_at: own })
            }
        }
    }

    /// Whether this caller may see and revoke `target`, a token of its org: an
    /// unlimited caller manages every one; a workspace-limited caller only tokens
    /// limited to a non-empty subset of its own workspaces (never an unlimited token).
    pub fn may_manage(&self, target: &Token) -> Result<(), Denial> {
        let Some(own) = &self.workspace_ids else {
            return Ok(());
        };
        let Some(theirs) = target.workspace_ids.as_deref().filter(|ws| !ws.is_empty()) else {
            return Err(Denial::OutsideWorkspaces {
                permission: Permission::TokensManage,
                workspace_id: own.first().cloned().unwrap_or_else(WorkspaceId::generate),
            });
        };
        match theirs.iter().find(|ws| !own.contains(ws)) {
            Some(outside) => Err(Denial::OutsideWorkspaces {
                permission: Permission::TokensManage,
                workspace_id: outside.clone(),
            }),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::permission::Role;

    fn principal(words: Vec<String>, workspaces: Option<Vec<WorkspaceId>>) -> Principal {
        Principal {
            token_id: TokenId::generate(),
            org_id: Some(OrgId::generate()),
            grants: Grants::from_words(&words),
            workspace_ids: workspaces,
            expires_at: None,
        }
    }

    fn token_within(workspaces: Option<Vec<WorkspaceId>>) -> Token {
        Token {
            token_id: TokenId::generate(),
            org_id: None,
            name: "t".into(),
            prefix: "cut_".into(),
            permissions: vec!["*".into()],
            workspace_ids: workspaces,
            expires_at: None,
            created_at: Timestamp::from_micros(0),
            created_by: "test".into(),
            revoked_at: None,
        }
    }

    #[test]
    fn a_minted_token_never_outlives_its_minter() {
        let at = Timestamp::from_micros;
        let mut caller = principal(Role::Admin.grant_words(), None);
        assert_eq!(caller.child_expiry(RequestedExpiry::Omitted), Ok(None));
        assert_eq!(caller.child_expiry(RequestedExpiry::Never), Ok(None));
        assert_eq!(
            caller.child_expiry(RequestedExpiry::At(at(9))),
            Ok(Some(at(9)))
        );
        caller.expires_at = Some(at(100));
        assert_eq!(
            caller.child_expiry(RequestedExpiry::Omitted),
            Ok(Some(at(100)))
        );
        assert_eq!(
            caller.child_expiry(RequestedExpiry::At(at(100))),
            Ok(Some(at(100)))
        );
        assert_eq!(
            caller.child_expiry(RequestedExpiry::At(at(5))),
            Ok(Some(at(5)))
        );
        let outlives = Err(Denial::OutlivesCaller {
            expires_at: at(100),
        });
        assert_eq!(caller.child_expiry(RequestedExpiry::At(at(101))), outlives);
        assert_eq!(caller.child_expiry(RequestedExpiry::Never), outlives);
    }

    #[test]
    fn a_limited_caller_manages_only_tokens_within_its_workspaces() {
        let (a, b) = (WorkspaceId::generate(), WorkspaceId::generate());
        let unlimited = principal(Role::Admin.grant_words(), None);
        let limited = principal(Role::Admin.grant_words(), Some(vec![a.clone()]));
        for target in [
            None,
            Some(vec![]),
            Some(vec![a.clone()]),
            Some(vec![b.clone()]),
        ] {
            assert_eq!(unlimited.may_manage(&token_within(target)), Ok(()));
        }
        assert_eq!(
            limited.may_manage(&token_within(Some(vec![a.clone()]))),
            Ok(())
        );
        for target in [None, Some(vec![]), Some(vec![b.clone()]), Some(vec![a, b])] {
            assert!(matches!(
                limited.may_manage(&token_within(target)),
                Err(Denial::OutsideWorkspaces { .. })
            ));
        }
    }

    #[test]
    fn secrets_are_long_prefixed_and_digest_stably() {
        let secret = generate_secret();
        assert!(secret.starts_with("cut_"));
        assert_eq!(secret.len(), 56);
        assert_ne!(secret, generate_secret());
        assert_eq!(digest_secret(&secret), digest_secret(&secret));
        assert_eq!(display_prefix(&secret).len(), 12);
    }

    #[test]
    fn other_orgs_are_invisible_and_workspaces_limit() {
        let ws = WorkspaceId::generate();
        let caller = principal(Role::Admin.grant_words(), Some(vec![ws.clone()]));
        let own_org = caller.org_id.clone().unwrap();
        assert_eq!(
            caller.authorize(Permission::AppsRead, Some(&OrgId::generate()), None),
            Err(Denial::OtherOrg)
        );
        assert_eq!(
            caller.authorize(Permission::AppsRead, Some(&own_org), Some(&ws)),
            Ok(())
        );
        let other = WorkspaceId::generate();
        assert!(matches!(
            caller.authorize(Permission::AppsRead, Some(&own_org), Some(&other)),
            Err(Denial::OutsideWorkspaces { .. })
        ));
    }

    #[test]
    fn minting_cannot_escalate() {
        let ws = WorkspaceId::generate();
        let caller = principal(Role::Operator.grant_words(), Some(vec![ws.clone()]));
        let mut wanted = NewToken {
            name: "ci".into(),
            permissions: vec!["releases:activate".into()],
            workspace_ids: Some(vec![ws]),
            expires_at: None,
        };
        assert_eq!(caller.may_mint(&wanted), Ok(()));
        wanted.permissions = vec!["apps:write".into()];
        assert_eq!(
            caller.may_mint(&wanted),
            Err(Denial::MissingPermission(Permission::AppsWrite))
        );
        wanted.permissions = vec!["releases:read".into()];
        for outside in [None, Some(vec![])] {
            wanted.workspace_ids = outside;
            assert!(matches!(
                caller.may_mint(&wanted),
                Err(Denial::OutsideWorkspaces { .. })
            ));
        }
    }
}
