//! Where the client's settings come from: flags, then `CUTOVER_*` variables, then the
//! config file `cutover login` writes (`$XDG_CONFIG_HOME/cutover/config.toml`, else
//! `~/.config/cutover/config.toml`, or `--config` / `CUTOVER_CONFIG`). The file holds a
//! secret, so it is written with mode 0600 inside a 0700 directory, replaced atomically.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::args::GlobalArgs;
use super::error::{CliError, CliResult};

/// The server a client talks to when nothing says otherwise: `cutover serve`'s default.
pub const DEFAULT_URL: &str = "http://127.0.0.1:8080";

pub const ENV_URL: &str = "CUTOVER_URL";
pub const ENV_TOKEN: &str = "CUTOVER_TOKEN";
pub const ENV_ORG: &str = "CUTOVER_ORG";
pub const ENV_WORKSPACE: &str = "CUTOVER_WORKSPACE";
pub const ENV_APP: &str = "CUTOVER_APP";
pub const ENV_CONFIG: &str = "CUTOVER_CONFIG";

/// What the config file holds. Unknown keys are refused so a typo does not silently
/// fall back to another value.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workspace: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
}

/// Where a setting's value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Flag,
    Env(&'static str),
    File,
    Default,
    Unset,
}

impl Source {
    pub fn describe(self) -> String {
        match self {
            Self::Flag => "flag".to_owned(),
            Self::Env(name) => format!("env {name}"),
            Self::File => "config file".to_owned(),
            Self::Default => "default".to_owned(),
            Self::Unset => "unset".to_owned(),
        }
    }
}

/// One resolved setting.
#[derive(Debug, Clone)]
pub struct Setting {
    pub value: Option<String>,
    pub source: Source,
}

/// Every setting, resolved with flags > env > file (> default for the URL).
#[derive(Debug, Clone)]
pub struct Settings {
    pub url: Setting,
    pub token: Setting,
    pub org: Setting,
    pub workspace: Setting,
    pub app: Setting,
    /// The config file consulted (None when no location could be worked out).
    pub config_path: Option<PathBuf>,
    pub config_path_source: Source,
}

impl Settings {
    /// Resolves every setting from the flags, the process environment and the file.
    pub fn resolve(args: &GlobalArgs) -> CliResult<Self> {
        let (config_path, config_path_source) = config_location(args.config.as_deref());
        let file = match &config_path {
            Some(path) => read_file(path)?,
            None => FileConfig::default(),
        };
        let pick = |flag: &Option<String>, env: &'static str, file: &Option<String>| {
            if let Some(value) = flag.as_ref().filter(|v| !v.is_empty()) {
                return Setting {
                    value: Some(value.clone()),
                    source: Source::Flag,
                };
            }
            if let Some(value) = env_var(env) {
                return Setting {
                    value: Some(value),
                    source: Source::Env(env),
                };
            }
            match file.as_ref().filter(|v| !v.is_empty()) {
                Some(value) => Setting {
                    value: Some(value.clone()),
                    source: Source::File,
                },
                None => Setting {
                    value: None,
                    source: Source::Unset,
                },
            }
        };
        let mut url = pick(&args.url, ENV_URL, &file.url);
        if url.value.is_none() {
            url = Setting {
                value: Some(DEFAULT_URL.to_owned()),
                source: Source::Default,
            };
        }
        Ok(Self {
            url,
            token: pick(&args.token, ENV_TOKEN, &file.token),
            org: pick(&args.org, ENV_ORG, &file.org),
            workspace: pick(&args.workspace, ENV_WORKSPACE, &file.workspace),
            app: pick(&args.app, ENV_APP, &file.app),
            config_path,
            config_path_source,
        })
    }
}

/// A variable's value, with empty meaning unset (so `CUTOVER_APP= cutover …` clears it).
fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// The config file's path: `--config`, `CUTOVER_CONFIG`, `$XDG_CONFIG_HOME/cutover/
/// config.toml`, then `$HOME/.config/cutover/config.toml`.
fn config_location(flag: Option<&Path>) -> (Option<PathBuf>, Source) {
    if let Some(path) = flag.filter(|p| !p.as_os_str().is_empty()) {
        return (Some(path.to_path_buf()), Source::Flag);
    }
    if let Some(path) = env_var(ENV_CONFIG) {
        return (Some(PathBuf::from(path)), Source::Env(ENV_CONFIG));
    }
    // The XDG spec says to ignore a relative XDG_CONFIG_HOME.
    if let Some(base) = env_var("XDG_CONFIG_HOME").map(PathBuf::from)
        && base.is_absolute()
    {
        return (
            Some(base.join("cutover").join("config.toml")),
            Source::Default,
        );
    }
    match env_var("HOME") {
        Some(home) => (
            Some(
                PathBuf::from(home)
                    .join(".config")
                    .join("cutover")
                    .join("config.toml"),
            ),
            Source::Default,
        ),
        None => (None, Source::Unset),
    }
}

/// Reads the file; a missing file is an empty config.
pub fn read_file(path: &Path) -> CliResult<FileConfig> {
    let text = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(FileConfig::default()),
        Err(e) => {
            return Err(CliError::local(format!(
                "cannot read the config file {}: {e}",
                path.display()
            )));
        }
    };
    let config: FileConfig = toml::from_str(&text).map_err(|e| {
        CliError::local(format!(
            "the config file {} is not valid: {}",
            path.display(),
            e.message()
        ))
    })?;
    if config.token.is_some() {
        warn_if_exposed(path);
    }
    Ok(config)
}

/// Says so on standard error when a file holding a token can be read by others.
fn warn_if_exposed(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = fs::metadata(path) {
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                super::output::note(&format!(
                    "cutover: warning: {} holds a token but has mode {mode:04o}; \
                     run `chmod 600 {}`",
                    path.display(),
                    path.display()
                ));
            }
        }
    }
}

/// Writes `config` to `path` with mode 0600, replacing the old file atomically
/// (a new file beside it, then a rename), creating the directory (0700) if needed.
pub fn write_file(path: &Path, config: &FileConfig) -> CliResult {
    let fail = |what: &str, e: io::Error| {
        CliError::local(format!(
            "cannot {what} the config file {}: {e}",
            path.display()
        ))
    };
    let text = format!(
        "# Written by `cutover login`. It holds an API token: keep it private (mode 0600).\n{}",
        toml::to_string(config)
            .map_err(|e| CliError::local(format!("cannot encode the config file: {e}")))?
    );
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    create_private_dir(&dir).map_err(|e| fail("create the directory of", e))?;
    let file_name = path
        .file_name()
        .ok_or_else(|| CliError::usage(format!("{} is not a file path", path.display())))?;
    let mut temp_name = file_name.to_os_string();
    temp_name.push(format!(".tmp-{}", std::process::id()));
    let temp = dir.join(temp_name);
    let result = (|| {
        let mut file = open_private(&temp)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        fs::rename(&temp, path)
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&temp);
        return Err(fail("write", e));
    }
    Ok(())
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    if dir.is_dir() {
        return Ok(());
    }
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> io::Result<()> {
    fs::create_dir_all(dir)
}

#[cfg(unix)]
fn open_private(path: &Path) -> io::Result<fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

#[cfg(not(unix))]
fn open_private(path: &Path) -> io::Result<fs::File> {
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
}

/// The readable start of a token, for showing which one is in use without showing it.
pub fn mask_token(token: &str) -> String {
    let shown: String = token.chars().take(12).collect();
    if shown.len() < token.len() {
        format!("{shown}…")
    } else {
        "(short token hidden)".to_owned()
    }
}
