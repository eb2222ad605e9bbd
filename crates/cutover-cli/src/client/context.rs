//! What a client command runs with: the API client, the resolved settings, the output
//! format; the resource paths built from the org, workspace and app in context; and
//! list paging (one page, or every page with `--all-pages`).

use std::time::Duration;

use cutover_domain::{AppId, OrgId, WorkspaceId};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::args::{GlobalArgs, Output, PageArgs};
use super::config::{ENV_APP, ENV_ORG, ENV_WORKSPACE, Settings};
use super::error::{CliError, CliResult};
use super::http::{Answer, Api, Retries, WriteKeys};
use super::output;

pub struct Ctx {
    pub api: Api,
    pub settings: Settings,
    pub output: Output,
}

impl Ctx {
    /// Resolves the settings and prepares a client; `needs_token` refuses to go on
    /// without one (a usage error, before anything is sent).
    pub fn new(args: &GlobalArgs, needs_token: bool) -> CliResult<Self> {
        let settings = Settings::resolve(args)?;
        if needs_token && settings.token.value.is_none() {
            return Err(CliError::usage(
                "no API token: give --token, set CUTOVER_TOKEN, or run `cutover login`",
            ));
        }
        let url = settings.url.value.clone().unwrap_or_default();
        let api = Api::new(
            &url,
            settings.token.value.clone(),
            Duration::from_secs(args.timeout),
            Retries {
                times: args.retries,
            },
            WriteKeys::new(args.idempotency_key.clone())?,
        )?;
        Ok(Self {
            api,
            settings,
            output: args.output,
        })
    }

    pub fn json(&self) -> bool {
        self.output == Output::Json
    }

    pub fn org(&self) -> CliResult<OrgId> {
        let text = required(
            &self.settings.org.value,
            "an organisation",
            "--org",
            ENV_ORG,
        )?;
        OrgId::parse(text).map_err(|_| bad_id("--org", text, OrgId::PREFIX))
    }

    pub fn workspace(&self) -> CliResult<WorkspaceId> {
        let text = required(
            &self.settings.workspace.value,
            "a workspace",
            "--workspace",
            ENV_WORKSPACE,
        )?;
        WorkspaceId::parse(text).map_err(|_| bad_id("--workspace", text, WorkspaceId::PREFIX))
    }

    pub fn app(&self) -> CliResult<AppId> {
        let text = required(&self.settings.app.value, "an app", "--app", ENV_APP)?;
        AppId::parse(text).map_err(|_| bad_id("--app", text, AppId::PREFIX))
    }

    /// `/v1/orgs/{org}`.
    pub fn org_path(&self) -> CliResult<String> {
        Ok(format!("/v1/orgs/{}", self.org()?))
    }

    /// `/v1/orgs/{org}/workspaces/{ws}`.
    pub fn workspace_path(&self) -> CliResult<String> {
        Ok(format!(
            "{}/workspaces/{}",
            self.org_path()?,
            self.workspace()?
        ))
    }

    /// `/v1/orgs/{org}/workspaces/{ws}/apps/{app}`.
    pub fn app_path(&self) -> CliResult<String> {
        Ok(format!("{}/apps/{}", self.workspace_path()?, self.app()?))
    }

    /// One page (or with `--all-pages`, every page) of the list at `path`, whose items sit
    /// under `key`.
    pub fn list(
        &self,
        path: &str,
        key: &'static str,
        extra: &[(&str, String)],
        page: &PageArgs,
    ) -> CliResult<Listing> {
        self.list_within(path, key, extra, page, 200)
    }

    /// [`Ctx::list`] of a list whose pages hold at most `max_page` items (the
    /// timeline's 100), the page size `--all-pages` walks it in.
    pub fn list_within(
        &self,
        path: &str,
        key: &'static str,
        extra: &[(&str, String)],
        page: &PageArgs,
        max_page: u32,
    ) -> CliResult<Listing> {
        let mut query: Vec<(&str, String)> = extra.to_vec();
        // Walking every page, take the largest pages the API allows.
        let limit = page.limit.or(page.all_pages.then_some(max_page));
        if let Some(limit) = limit {
            query.push(("limit", limit.to_string()));
        }
        let mut cursor = page.cursor.clone();
        let mut listing = Listing {
            key,
            first: None,
            items: Vec::new(),
            pages: 0,
            next_cursor: None,
            single: None,
        };
        loop {
            let mut query = query.clone();
            if let Some(cursor) = &cursor {
                query.push(("cursor", cursor.clone()));
            }
            let answer = self.api.get(path, &query)?;
            let mut envelope = answer.json()?;
            let items = envelope
                .get_mut(key)
                .and_then(Value::as_array_mut)
                .map(std::mem::take)
                .ok_or_else(|| unexpected(&format!("a list answer without `{key}`")))?;
            listing.items.extend(items);
            listing.pages += 1;
            let next = envelope
                .get("next_cursor")
                .and_then(Value::as_str)
                .map(str::to_owned);
            let more = envelope
                .get("has_more")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            if listing.first.is_none() {
                listing.first = Some(envelope);
            }
            listing.next_cursor = next.clone().filter(|_| more);
            if !page.all_pages || listing.next_cursor.is_none() {
                if listing.pages == 1 {
                    listing.single = Some(answer);
                }
                return Ok(listing);
            }
            // A server that hands back the cursor it was given would loop forever.
            if next == cursor {
                return Err(unexpected("the same cursor twice"));
            }
            cursor = next;
        }
    }

    /// Prints the list as JSON: a single page exactly as the server sent it; several
    /// pages as one envelope of the same shape holding every item.
    pub fn print_listing_json(&self, listing: Listing) -> CliResult {
        if let Some(answer) = &listing.single {
            return output::print_raw(answer);
        }
        let mut envelope = match listing.first {
            Some(Value::Object(map)) => map,
            _ => Map::new(),
        };
        envelope.insert(listing.key.to_owned(), Value::Array(listing.items));
        envelope.insert("has_more".to_owned(), Value::Bool(false));
        envelope.insert("next_cursor".to_owned(), Value::Null);
        // Compact, like the server's own answers.
        output::print(&format!("{}\n", Value::Object(envelope)))
    }
}

/// The items of one or more pages of a list.
pub struct Listing {
    pub key: &'static str,
    /// The first page's envelope (without its items): `total`, `active_release_id`.
    pub first: Option<Value>,
    pub items: Vec<Value>,
    pub pages: usize,
    /// Set when more pages exist that were not fetched.
    pub next_cursor: Option<String>,
    /// The raw answer when exactly one page was fetched.
    pub single: Option<Answer>,
}

impl Listing {
    /// The items as `T`s.
    pub fn typed<T: DeserializeOwned>(&self) -> CliResult<Vec<T>> {
        self.items.iter().map(|item| parse(item.clone())).collect()
    }

    /// A number from the first page's envelope (such as `total`).
    pub fn field(&self, name: &str) -> Option<&Value> {
        self.first.as_ref().and_then(|f| f.get(name))
    }

    /// Says on standard error how to get the rest, when there is more.
    pub fn note_more(&self) {
        if let Some(cursor) = &self.next_cursor {
            let total = self
                .field("total")
                .and_then(Value::as_u64)
                .map(|t| format!(" of {t}"))
                .unwrap_or_default();
            output::note(&format!(
                "(showing {}{total}; more with --all-pages, or --cursor {cursor})",
                self.items.len()
            ));
        }
    }
}

/// A JSON value as `T`, or an error saying the answer was not what the API documents.
pub fn parse<T: DeserializeOwned>(value: Value) -> CliResult<T> {
    serde_json::from_value(value).map_err(|e| unexpected(&e.to_string()))
}

/// An answer's body as `T`.
pub fn parse_answer<T: DeserializeOwned>(answer: &Answer) -> CliResult<T> {
    parse(answer.json()?)
}

pub fn unexpected(what: &str) -> CliError {
    CliError::local(format!("unexpected answer from the server: {what}"))
}

fn required<'a>(
    value: &'a Option<String>,
    what: &str,
    flag: &str,
    env: &str,
) -> CliResult<&'a str> {
    value.as_deref().ok_or_else(|| {
        CliError::usage(format!(
            "this command needs {what}: give {flag}, set {env}, or save one with \
             `cutover login {flag} …`"
        ))
    })
}

fn bad_id(flag: &str, text: &str, prefix: &str) -> CliError {
    CliError::usage(format!(
        "{flag}: {text:?} is not an id of the form {prefix}_… (26 base32 characters)"
    ))
}
