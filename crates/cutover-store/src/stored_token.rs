//! A token as a backend reads its row: everything but its two JSON columns (the
//! permissions and the workspace limit), which [`StoredToken::into_token`] decodes the
//! same way for every backend (an unreadable one is an internal error, never a guess).

use cutover_domain::token::Token;

use crate::{StoreResult, decode_stored};

pub struct StoredToken {
    /// The token with its stored columns; `permissions` and `workspace_ids` are filled
    /// in by [`StoredToken::into_token`].
    pub token: Token,
    pub permissions: String,
    pub workspace_ids: Option<String>,
}

impl StoredToken {
    pub fn into_token(self) -> StoreResult<Token> {
        let mut token = self.token;
        token.permissions = decode_stored(&self.permissions, "token's permissions")?;
        token.workspace_ids = self
            .workspace_ids
            .as_deref()
            .map(|text| decode_stored(text, "token's workspace list"))
            .transpose()?;
        Ok(token)
    }
}

#[cfg(test)]
mod tests {
    use cutover_domain::ids::{TokenId, WorkspaceId};
    use cutover_domain::timestamp::Timestamp;

    use super::*;
    use crate::StoreError;

    fn stored(permissions: &str, workspace_ids: Option<&str>) -> StoredToken {
        StoredToken {
            token: Token {
                token_id: TokenId::generate(),
                org_id: None,
                name: "ci".into(),
                prefix: "cut_abc".into(),
                permissions: Vec::new(),
                workspace_ids: None,
                expires_at: None,
                created_at: Timestamp::now(),
                created_by: "test".into(),
                revoked_at: None,
            },
            permissions: permissions.into(),
            workspace_ids: workspace_ids.map(str::to_owned),
        }
    }

    #[test]
    fn the_json_columns_are_decoded_and_an_unreadable_one_is_internal() {
        let workspace = WorkspaceId::generate();
        let token = stored(
            r#"["releases:read"]"#,
            Some(&format!(r#"["{}"]"#, workspace.as_str())),
        )
        .into_token()
        .expect("readable");
        assert_eq!(token.workspace_ids, Some(vec![workspace]));
        assert_eq!(token.permissions.len(), 1);
        assert!(matches!(
            stored("[", None).into_token(),
            Err(StoreError::Internal(_))
        ));
        assert!(matches!(
            stored("[]", Some("{")).into_token(),
            Err(StoreError::Internal(_))
        ));
    }
}
