//! Loading the data set through the HTTP API with many connections at once: an org,
//! a workspace, apps with full drafts, and their releases (a few apps with a deep
//! history). What the rows need afterwards (paths, release ids, cursors) is kept.

use std::net::SocketAddr;
use std::ops::Range;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hyper::header::{ETAG, HeaderValue};
use serde_json::{Value, json};
use tokio::task::JoinSet;

use crate::args::{BenchArgs, PAGE_LIMIT, WRITE_APPS};
use crate::client::{Conn, Req};
use crate::payloads::{augmentation_body, endpoint_body};

/// Releases the write apps start with, each created with `activate: true`, so the
/// rollback row has a history to roll back through from the start.
const WRITE_APP_RELEASES: u32 = 20;
/// Releases every other app gets (the second one active).
const REGULAR_APP_RELEASES: u32 = 2;
/// Deep-history releases created per job (sequentially, on one connection).
const DEEP_CHUNK: u32 = 50;

#[derive(Clone, Debug)]
pub struct ReleaseRef {
    pub id: String,
    pub number: u64,
}

impl ReleaseRef {
    pub fn from_answer(body: &Value) -> Result<Self, String> {
        let id = body["release_id"]
            .as_str()
            .ok_or("answer has no release_id")?;
        let number = body["release_number"]
            .as_u64()
            .ok_or("answer has no release_number")?;
        Ok(Self {
            id: id.to_owned(),
            number,
        })
    }
}

pub struct App {
    /// `/v1/orgs/{org}/workspaces/{ws}/apps/{app}`
    pub base: String,
    /// Ascending by number; the last is the active one after loading.
    pub releases: Vec<ReleaseRef>,
}

pub struct DataSet {
    pub apps: Vec<App>,
    /// Apps with a deep history: `--deep-releases` plus one page of releases.
    pub deep: Range<usize>,
    /// Apps the write rows use.
    pub write: Range<usize>,
    /// For each deep app, the cursor of the page that starts `deep_offset` deep.
    pub deep_cursors: Vec<String>,
    pub deep_offset: u64,
    pub releases: u64,
    pub entities: u64,
    pub requests: u64,
    pub took: Duration,
    /// One line per loading phase: what, how long, how fast.
    pub phases: Vec<String>,
}

enum Job {
    CreateApp {
        index: usize,
        path: Arc<str>,
    },
    FillDraft {
        base: Arc<str>,
        endpoints: u32,
        augmentations: u32,
    },
    CreateReleases {
        app: usize,
        base: Arc<str>,
        tags: Vec<String>,
        activate: bool,
    },
    WalkPages {
        app: usize,
        base: Arc<str>,
        pages: u64,
    },
    Etag {
        app: usize,
        path: Arc<str>,
    },
    /// Deploys a release to staging.
    Stage {
        base: Arc<str>,
        release_id: String,
    },
}

enum Done {
    App {
        index: usize,
        id: String,
    },
    Draft {
        entities: u64,
    },
    Releases {
        app: usize,
        refs: Vec<ReleaseRef>,
    },
    Cursor {
        app: usize,
        cursor: String,
    },
    Etag {
        app: usize,
        tag: Option<HeaderValue>,
    },
    Staged,
}

impl Job {
    /// Runs the job on `conn`; returns what it made and how many requests it sent.
    async fn run(self, conn: &mut Conn) -> Result<(Done, u64), String> {
        match self {
            Job::CreateApp { index, path } => {
                let body = json!({
                    "name": format!("app-{index:04}"),
                    "description": "A support assistant: answers questions about orders.",
                    "parameters": {"region": "eu-west-1", "tier": "standard", "owner": "team-support"},
                });
                let app = conn
                    .send(&Req::post(path, &body))
                    .await?
                    .expect_json("create app")?;
                let id = app["app_id"].as_str().ok_or("app answer has no app_id")?;
                Ok((
                    Done::App {
                        index,
                        id: id.to_owned(),
                    },
                    1,
                ))
            }
            Job::FillDraft {
                base,
                endpoints,
                augmentations,
            } => {
                let mut aug_ids = Vec::with_capacity(augmentations as usize);
                for i in 0..augmentations {
                    let path = format!("{base}/augmentations");
                    let answer = conn.send(&Req::post(path, &augmentation_body(i))).await?;
                    let aug = answer.expect_json("create augmentation")?;
                    let id = aug["augmentation_id"]
                        .as_str()
                        .ok_or("no augmentation_id")?;
                    aug_ids.push(id.to_owned());
                }
                for j in 0..endpoints {
                    let aug = &aug_ids[j as usize % aug_ids.len()];
                    let path = format!("{base}/endpoints");
                    let answer = conn.send(&Req::post(path, &endpoint_body(j, aug))).await?;
                    answer.expect_json("create endpoint")?;
                }
                let entities = u64::from(endpoints + augmentations);
                Ok((Done::Draft { entities }, entities))
            }
            Job::CreateReleases {
                app,
                base,
                tags,
                activate,
            } => {
                let mut refs = Vec::with_capacity(tags.len());
                let path: Arc<str> = format!("{base}/releases").into();
                for tag in &tags {
                    let body = json!({
                        "release_tag": tag,
                        "description": "Loaded by cutover-bench",
                        "activate": activate,
                    });
                    let answer = conn.send(&Req::post(path.clone(), &body)).await?;
                    refs.push(ReleaseRef::from_answer(
                        &answer.expect_json("create release")?,
                    )?);
                }
                let sent = refs.len() as u64;
                Ok((Done::Releases { app, refs }, sent))
            }
            Job::WalkPages { app, base, pages } => {
                let mut cursor: Option<String> = None;
                for _ in 0..pages {
                    let mut path = format!("{base}/releases?limit={PAGE_LIMIT}");
                    if let Some(c) = &cursor {
                        path.push_str("&cursor=");
                        path.push_str(c);
                    }
                    let page = conn
                        .send(&Req::get(path))
                        .await?
                        .expect_json("list releases")?;
                    let next = page["next_cursor"]
                        .as_str()
                        .ok_or("a deep list ended early")?;
                    cursor = Some(next.to_owned());
                }
                let cursor = cursor.ok_or("no pages walked")?;
                Ok((Done::Cursor { app, cursor }, pages))
            }
            Job::Stage { base, release_id } => {
                let body = json!({"environment": "staging", "release_id": release_id,
                                  "reason": "Loaded by cutover-bench"});
                let path: Arc<str> = format!("{base}/deployments").into();
                conn.send(&Req::post(path, &body))
                    .await?
                    .expect_json("deploy to staging")?;
                Ok((Done::Staged, 1))
            }
            Job::Etag { app, path } => {
                let answer = conn.send(&Req::get(path)).await?;
                let tag = answer.headers.get(ETAG).cloned();
                answer.expect_json("get active release")?;
                Ok((Done::Etag { app, tag }, 1))
            }
        }
    }
}

/// Runs `jobs` on `workers` connections, in order of the list as far as workers
/// allow; stops at the first failure.
async fn run_jobs(
    addr: SocketAddr,
    token: &Arc<str>,
    workers: usize,
    jobs: Vec<Job>,
) -> Result<(Vec<Done>, u64), String> {
    let workers = workers.min(jobs.len());
    let queue = Arc::new(Mutex::new(jobs.into_iter().rev().collect::<Vec<_>>()));
    let mut tasks = JoinSet::new();
    for _ in 0..workers {
        let (queue, token) = (queue.clone(), token.clone());
        tasks.spawn(async move {
            let mut conn = Conn::open(addr, Some(&token)).await?;
            let (mut done, mut sent) = (Vec::new(), 0);
            loop {
                let job = queue.lock().expect("queue lock").pop();
                let Some(job) = job else { break };
                let (result, requests) = job.run(&mut conn).await?;
                done.push(result);
                sent += requests;
            }
            Ok::<_, String>((done, sent))
        });
    }
    let (mut all, mut sent) = (Vec::new(), 0);
    while let Some(joined) = tasks.join_next().await {
        let (done, requests) = joined.map_err(|e| format!("a loader task failed: {e}"))??;
        all.extend(done);
        sent += requests;
    }
    Ok((all, sent))
}

/// Loads the whole data set, reporting progress on standard error.
pub async fn load(addr: SocketAddr, token: &Arc<str>, args: &BenchArgs) -> Result<DataSet, String> {
    let started = Instant::now();
    let workers = args.connections as usize;
    let mut conn = Conn::open(addr, Some(token)).await?;
    let org = conn
        .send(&Req::post("/v1/orgs", &json!({"name": "Bench Corp"})))
        .await?
        .expect_json("create org")?;
    let org = org["org_id"].as_str().ok_or("org answer has no org_id")?;
    let ws = conn
        .send(&Req::post(
            format!("/v1/orgs/{org}/workspaces"),
            &json!({"name": "production"}),
        ))
        .await?
        .expect_json("create workspace")?;
    let ws = ws["workspace_id"].as_str().ok_or("no workspace_id")?;
    let apps_path: Arc<str> = format!("/v1/orgs/{org}/workspaces/{ws}/apps").into();
    let mut requests = 2;

    let n = args.apps as usize;
    let mut phases = Vec::new();
    let mut step = |what: String, count: u64, since: Instant| {
        let took = since.elapsed().as_secs_f64();
        let line = format!("{what}: {took:.1} s, {:.0}/s", count as f64 / took);
        eprintln!("  {line}");
        phases.push(line);
    };
    let t = Instant::now();
    let jobs = (0..n)
        .map(|index| Job::CreateApp {
            index,
            path: apps_path.clone(),
        })
        .collect();
    let (done, sent) = run_jobs(addr, token, workers, jobs).await?;
    requests += sent;
    let mut bases = vec![String::new(); n];
    for d in done {
        if let Done::App { index, id } = d {
            bases[index] = format!("{apps_path}/{id}");
        }
    }
    step(format!("{n} apps"), n as u64, t);

    let t = Instant::now();
    let jobs = bases
        .iter()
        .map(|base| Job::FillDraft {
            base: base.as_str().into(),
            endpoints: args.endpoints,
            augmentations: args.augmentations,
        })
        .collect();
    let (done, sent) = run_jobs(addr, token, workers, jobs).await?;
    requests += sent;
    let entities: u64 = done
        .iter()
        .map(|d| {
            if let Done::Draft { entities } = d {
                *entities
            } else {
                0
            }
        })
        .sum();
    step(format!("{entities} draft entities"), entities, t);

    let deep = 0..args.deep_apps as usize;
    let write = deep.end..deep.end + WRITE_APPS as usize;
    let t = Instant::now();
    let mut jobs = Vec::new();
    let per_deep = args.releases_per_deep_app();
    // All but the newest deep release stay `ready`, so the default list (which hides
    // archived releases) pages through the whole history.
    for chunk in (1..per_deep).step_by(DEEP_CHUNK as usize) {
        for app in deep.clone() {
            let tags = (chunk..(chunk + DEEP_CHUNK).min(per_deep))
                .map(|i| format!("v{i}"))
                .collect();
            jobs.push(Job::CreateReleases {
                app,
                base: bases[app].as_str().into(),
                tags,
                activate: false,
            });
        }
    }
    for (app, base) in bases.iter().enumerate().skip(deep.end) {
        let count = if write.contains(&app) {
            WRITE_APP_RELEASES
        } else {
            REGULAR_APP_RELEASES
        };
        let tags = (1..=count).map(|i| format!("v{i}")).collect();
        jobs.push(Job::CreateReleases {
            app,
            base: base.as_str().into(),
            tags,
            activate: true,
        });
    }
    let (mut done, sent) = run_jobs(addr, token, workers, jobs).await?;
    requests += sent;
    let finals = deep
        .clone()
        .map(|app| Job::CreateReleases {
            app,
            base: bases[app].as_str().into(),
            tags: vec![format!("v{per_deep}")],
            activate: true,
        })
        .collect();
    let (more, sent) = run_jobs(addr, token, workers, finals).await?;
    requests += sent;
    done.extend(more);
    let mut apps: Vec<App> = bases
        .into_iter()
        .map(|base| App {
            base,
            releases: Vec::new(),
        })
        .collect();
    let mut releases = 0;
    for d in done {
        if let Done::Releases { app, refs } = d {
            releases += refs.len() as u64;
            apps[app].releases.extend(refs);
        }
    }
    for app in &mut apps {
        app.releases.sort_by_key(|r| r.number);
    }
    step(format!("{releases} releases"), releases, t);

    // Every app but the write apps gets a release in staging: the one before its
    // newest (production's), so staging answers a body of its own.
    let t = Instant::now();
    let jobs: Vec<Job> = apps
        .iter()
        .enumerate()
        .filter(|(index, _)| !write.contains(index))
        .filter_map(|(_, app)| {
            let staged = app.releases.iter().rev().nth(1).or(app.releases.last())?;
            Some(Job::Stage {
                base: app.base.as_str().into(),
                release_id: staged.id.clone(),
            })
        })
        .collect();
    let staged = jobs.len() as u64;
    let (_, sent) = run_jobs(addr, token, workers, jobs).await?;
    requests += sent;
    step(format!("{staged} deployments to staging"), staged, t);

    let t = Instant::now();
    let pages = u64::from(args.deep_releases / PAGE_LIMIT);
    let jobs = deep
        .clone()
        .map(|app| Job::WalkPages {
            app,
            base: apps[app].base.as_str().into(),
            pages,
        })
        .collect();
    let (done, sent) = run_jobs(addr, token, workers, jobs).await?;
    requests += sent;
    let mut deep_cursors = vec![String::new(); deep.len()];
    for d in done {
        if let Done::Cursor { app, cursor } = d {
            deep_cursors[app - deep.start] = cursor;
        }
    }
    step(
        format!(
            "{} list pages to the deep cursors",
            pages * deep.len() as u64
        ),
        pages * deep.len() as u64,
        t,
    );

    Ok(DataSet {
        apps,
        deep,
        write,
        deep_cursors,
        deep_offset: pages * u64::from(PAGE_LIMIT),
        phases,
        releases,
        entities,
        requests,
        took: started.elapsed(),
    })
}

/// Every app's current `ETag` on `GET …/releases/active` (None where it sends none).
pub async fn fetch_etags(
    addr: SocketAddr,
    token: &Arc<str>,
    workers: usize,
    data: &DataSet,
) -> Result<Vec<Option<HeaderValue>>, String> {
    let jobs = data
        .apps
        .iter()
        .enumerate()
        .map(|(app, a)| Job::Etag {
            app,
            path: format!("{}/releases/active", a.base).into(),
        })
        .collect();
    let (done, _) = run_jobs(addr, token, workers, jobs).await?;
    let mut tags = vec![None; data.apps.len()];
    for d in done {
        if let Done::Etag { app, tag } = d {
            tags[app] = tag;
        }
    }
    Ok(tags)
}
