//! Environments of a workspace (Production, Staging, Development, and any a team adds):
//! what one holds, the three every workspace starts with, how a path names one (its id
//! or its slug), and the rules for changing and deleting one. Backends store and read
//! environments; every decision about them is made here.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::conflict::Conflict;
use crate::ids::{AppId, EnvironmentId, OrgId, ReleaseId, WorkspaceId};
use crate::model::ReleaseSummary;
use crate::timestamp::Timestamp;
use crate::values::{Violation, parse_slug};

/// An environment as the API answers it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Environment {
    pub environment_id: EnvironmentId,
    pub workspace_id: WorkspaceId,
    pub org_id: OrgId,
    pub name: String,
    /// Lowercase letters, digits and `-`; unique in the workspace.
    pub slug: String,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub description: Option<String>,
    /// Exactly one environment of a workspace is its default: the one the release
    /// operations `activate`, `rollback` and `releases/active` act on.
    pub is_default: bool,
    /// Deploying to a protected environment needs `releases:activate`.
    pub protected: bool,
    /// For every app of the workspace with a release deployed here: that release.
    #[cfg_attr(feature = "openapi", schema(value_type = HashMap<String, ReleaseId>))]
    pub active_deployments: BTreeMap<AppId, ReleaseId>,
    pub status: EnvironmentStatus,
    pub created_by: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum EnvironmentStatus {
    /// The only status so far: an environment exists until it is deleted.
    Active,
}

/// One environment on an app's board: what of the app is deployed there, since when
/// and by whom (all null when nothing is).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BoardEntry {
    pub environment_id: EnvironmentId,
    pub slug: String,
    pub name: String,
    pub is_default: bool,
    pub protected: bool,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub release: Option<ReleaseSummary>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub deployed_at: Option<Timestamp>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub deployed_by: Option<String>,
}

/// What of one app an environment has: the release, and when and by whom the record
/// that put it there was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Deployed {
    pub release: ReleaseSummary,
    pub deployed_at: Timestamp,
    pub deployed_by: String,
}

impl BoardEntry {
    /// The app's entry for `environment`, given what of the app it has.
    pub fn of(environment: &Environment, deployed: Option<Deployed>) -> Self {
        let (release, deployed_at, deployed_by) = match deployed {
            Some(here) => (
                Some(here.release),
                Some(here.deployed_at),
                Some(here.deployed_by),
            ),
            None => (None, None, None),
        };
        Self {
            environment_id: environment.environment_id.clone(),
            slug: environment.slug.clone(),
            name: environment.name.clone(),
            is_default: environment.is_default,
            protected: environment.protected,
            release,
            deployed_at,
            deployed_by,
        }
    }
}

/// What a new environment holds.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEnvironment {
    pub name: String,
    pub slug: String,
    pub description: Option<String>,
    pub is_default: bool,
    pub protected: bool,
}

impl NewEnvironment {
    /// The environment this input creates in the workspace, with a new id and no
    /// deployments.
    pub fn into_environment(
        self,
        org_id: OrgId,
        workspace_id: WorkspaceId,
        actor: &str,
        at: Timestamp,
    ) -> Environment {
        Environment {
            environment_id: EnvironmentId::generate(),
            workspace_id,
            org_id,
            name: self.name,
            slug: self.slug,
            description: self.description,
            is_default: self.is_default,
            protected: self.protected,
            active_deployments: BTreeMap::new(),
            status: EnvironmentStatus::Active,
            created_by: actor.to_owned(),
            created_at: at,
            updated_at: at,
        }
    }
}

/// The environments every workspace has from its creation, in this order: Production
/// (the default, protected), Staging and Development.
pub fn starting_environments() -> [NewEnvironment; 3] {
    let starting = |name: &str, slug: &str, first: bool| NewEnvironment {
        name: name.to_owned(),
        slug: slug.to_owned(),
        description: None,
        is_default: first,
        protected: first,
    };
    [
        starting("Production", "production", true),
        starting("Staging", "staging", false),
        starting("Development", "development", false),
    ]
}

/// A change to an environment: each field given is set.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EnvironmentPatch {
    pub name: Option<String>,
    pub slug: Option<String>,
    /// `Some(None)` clears the description.
    pub description: Option<Option<String>>,
    pub is_default: Option<bool>,
    pub protected: Option<bool>,
}

impl EnvironmentPatch {
    /// Applies the patch to `current` (as stored), or says why it may not be. Making
    /// an environment the default is allowed (the backend then takes the flag from
    /// the previous default in the same transaction); taking the flag from the
    /// default is not, since a workspace always has one: make another the default
    /// instead.
    pub fn apply(self, current: &Environment, at: Timestamp) -> Result<Environment, Conflict> {
        if current.is_default && self.is_default == Some(false) {
            return Err(Conflict::EnvironmentIsDefault {
                slug: current.slug.clone(),
            });
        }
        let mut changed = current.clone();
        if let Some(name) = self.name {
            changed.name = name;
        }
        if let Some(slug) = self.slug {
            changed.slug = slug;
        }
        if let Some(description) = self.description {
            changed.description = description;
        }
        if let Some(is_default) = self.is_default {
            changed.is_default = is_default;
        }
        if let Some(protected) = self.protected {
            changed.protected = protected;
        }
        changed.updated_at = at;
        Ok(changed)
    }

    /// Whether applying it makes the environment the workspace's default.
    pub fn makes_default(&self, current: &Environment) -> bool {
        !current.is_default && self.is_default == Some(true)
    }
}

/// Whether `environment` may be deleted: never the default (a workspace always has
/// one), never one with a release deployed in it.
pub fn check_delete(environment: &Environment) -> Result<(), Conflict> {
    if environment.is_default {
        return Err(Conflict::EnvironmentIsDefault {
            slug: environment.slug.clone(),
        });
    }
    if !environment.active_deployments.is_empty() {
        return Err(Conflict::EnvironmentHasDeployments {
            slug: environment.slug.clone(),
            app_ids: environment
                .active_deployments
                .keys()
                .take(20)
                .map(|app| app.as_str().to_owned())
                .collect(),
        });
    }
    Ok(())
}

/// How a path or a body names an environment: by its id (`env_…`) or by its slug.
/// The two never collide: a slug has no `_`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum EnvironmentRef {
    Id(EnvironmentId),
    Slug(String),
}

impl EnvironmentRef {
    /// Exactly what [`EnvironmentRef::parse`] accepts, as a regular expression that
    /// reads the same in ECMA-262, Python and Rust: an environment id, or a slug.
    pub const PATTERN: &'static str =
        "^(?:env_[0-7][0-9a-hjkmnp-tv-z]{25}|[a-z0-9][a-z0-9-]{0,63})$";

    pub fn parse(text: &str) -> Result<Self, Violation> {
        if text.starts_with(concat!("env", "_")) {
            return EnvironmentId::parse(text)
                .map(Self::Id)
                .map_err(|malformed| Violation::Invalid(malformed.to_string()));
        }
        parse_slug(text).map(Self::Slug)
    }

    /// The text the caller used, for messages and `resource_id`.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Id(id) => id.as_str(),
            Self::Slug(slug) => slug,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn production() -> Environment {
        let [first, ..] = starting_environments();
        first.into_environment(
            OrgId::generate(),
            WorkspaceId::generate(),
            "alice",
            Timestamp::from_micros(1),
        )
    }

    #[test]
    fn a_workspace_starts_with_production_as_its_protected_default_then_staging_and_development() {
        let slugs: Vec<_> = starting_environments()
            .iter()
            .map(|env| (env.slug.clone(), env.is_default, env.protected))
            .collect();
        assert_eq!(
            slugs,
            [
                ("production".to_owned(), true, true),
                ("staging".to_owned(), false, false),
                ("development".to_owned(), false, false),
            ]
        );
    }

    #[test]
    fn the_default_keeps_its_flag_until_another_takes_it() {
        let env = production();
        let refused = EnvironmentPatch {
            is_default: Some(false),
            ..Default::default()
        }
        .apply(&env, Timestamp::from_micros(2));
        assert_eq!(
            refused.map(|_| ()),
            Err(Conflict::EnvironmentIsDefault {
                slug: "production".into()
            })
        );
        let renamed = EnvironmentPatch {
            name: Some("Prod".into()),
            description: Some(Some("live traffic".into())),
            ..Default::default()
        }
        .apply(&env, Timestamp::from_micros(2))
        .expect("a rename is fine");
        assert_eq!(renamed.name, "Prod");
        assert_eq!(renamed.description.as_deref(), Some("live traffic"));
        assert_eq!(renamed.updated_at, Timestamp::from_micros(2));
        assert!(renamed.is_default);
    }

    #[test]
    fn the_default_and_an_environment_with_deployments_cannot_be_deleted() {
        let mut env = production();
        assert_eq!(
            check_delete(&env),
            Err(Conflict::EnvironmentIsDefault {
                slug: "production".into()
            })
        );
        env.is_default = false;
        assert_eq!(check_delete(&env), Ok(()));
        let app = AppId::generate();
        env.active_deployments
            .insert(app.clone(), ReleaseId::generate());
        assert_eq!(
            check_delete(&env),
            Err(Conflict::EnvironmentHasDeployments {
                slug: "production".into(),
                app_ids: vec![app.as_str().to_owned()],
            })
        );
    }

    #[test]
    fn the_board_shows_what_the_environment_has_since_its_record() {
        use crate::model::ReleaseStatus;
        use crate::values::ReleaseTag;
        let production = production();
        let at = Timestamp::from_micros(5);
        let release = ReleaseSummary {
            release_id: ReleaseId::generate(),
            app_id: AppId::generate(),
            workspace_id: production.workspace_id.clone(),
            org_id: production.org_id.clone(),
            release_tag: ReleaseTag::parse("v1").unwrap(),
            release_number: 1,
            status: ReleaseStatus::Active,
            description: None,
            endpoint_count: 0,
            augmentation_count: 0,
            content_hash: "0".repeat(64),
            activated_at: Some(Timestamp::from_micros(9)),
            activated_by: Some("carol".into()),
            created_at: at,
            created_by: "alice".into(),
        };
        let deployed = Deployed {
            release: release.clone(),
            deployed_at: at,
            deployed_by: "bob".into(),
        };
        let entry = BoardEntry::of(&production, Some(deployed));
        assert_eq!(entry.release.as_ref(), Some(&release));
        assert_eq!(
            (entry.deployed_at, entry.deployed_by.as_deref()),
            (Some(at), Some("bob")),
            "when this environment got it, not the release's latest deployment"
        );
        let entry = BoardEntry::of(&production, None);
        assert_eq!(
            (entry.release, entry.deployed_at, entry.deployed_by),
            (None, None, None)
        );
    }

    #[test]
    fn a_path_names_an_environment_by_id_or_by_slug() {
        let id = EnvironmentId::generate();
        assert_eq!(
            EnvironmentRef::parse(id.as_str()),
            Ok(EnvironmentRef::Id(id))
        );
        assert_eq!(
            EnvironmentRef::parse("staging"),
            Ok(EnvironmentRef::Slug("staging".into()))
        );
        assert!(EnvironmentRef::parse("env_nope").is_err());
        assert!(EnvironmentRef::parse("Staging").is_err());
        assert!(EnvironmentRef::parse("").is_err());
    }
}
