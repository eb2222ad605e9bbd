//! What each row sends. Read rows pick apps and releases at random (seeded per
//! connection); write rows give every connection its own apps, so each request is a
//! real state change that no other connection races.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use cutover_domain::model::ReleaseSummary;
use cutover_domain::precondition::EntityTag;
use hyper::StatusCode;
use hyper::header::HeaderValue;
use serde_json::json;

use crate::args::PAGE_LIMIT;
use crate::client::{Answer, Req};
use crate::dataset::{DataSet, ReleaseRef};
use crate::load::{ConnWork, Rng, Step, Workload};

/// A read row: a fixed set of requests, one picked at random for each send.
pub struct Reads {
    requests: Arc<Vec<Req>>,
    expect: StatusCode,
}

impl Reads {
    /// `GET …/releases/active` of every app.
    pub fn active(data: &DataSet) -> Self {
        let requests = data
            .apps
            .iter()
            .map(|a| Req::get(format!("{}/releases/active", a.base)));
        Self {
            requests: Arc::new(requests.collect()),
            expect: StatusCode::OK,
        }
    }

    /// `GET …/releases/active?environment=staging` of every app with a release in
    /// staging (all but the write apps).
    pub fn staged(data: &DataSet) -> Self {
        let requests = data
            .apps
            .iter()
            .enumerate()
            .filter(|(index, _)| !data.write.contains(index))
            .map(|(_, a)| Req::get(format!("{}/releases/active?environment=staging", a.base)));
        Self {
            requests: Arc::new(requests.collect()),
            expect: StatusCode::OK,
        }
    }

    /// `GET …/releases/active` with the app's `If-None-Match`, expecting 304.
    pub fn not_modified(data: &DataSet, etags: &[Option<HeaderValue>]) -> Self {
        let requests = data.apps.iter().zip(etags).filter_map(|(a, tag)| {
            let mut req = Req::get(format!("{}/releases/active", a.base));
            req.if_none_match = Some(tag.clone()?);
            Some(req)
        });
        Self {
            requests: Arc::new(requests.collect()),
            expect: StatusCode::NOT_MODIFIED,
        }
    }

    /// `GET …/releases/{id}`: a random app, then a random release of it (deep apps
    /// have thousands, so this also reads old releases).
    pub fn detail(data: &DataSet, samples: usize) -> Self {
        let mut rng = Rng::new(0xDE7A11);
        let requests = (0..samples).map(|_| {
            let app = &data.apps[rng.below(data.apps.len())];
            let release = &app.releases[rng.below(app.releases.len())];
            Req::get(format!("{}/releases/{}", app.base, release.id))
        });
        Self {
            requests: Arc::new(requests.collect()),
            expect: StatusCode::OK,
        }
    }

    /// The first page of the deep apps' release lists.
    pub fn first_page(data: &DataSet) -> Self {
        let requests = data.apps[data.deep.clone()]
            .iter()
            .map(|a| Req::get(format!("{}/releases?limit={PAGE_LIMIT}", a.base)));
        Self {
            requests: Arc::new(requests.collect()),
            expect: StatusCode::OK,
        }
    }

    /// The page `deep_offset` releases deep of the deep apps' lists.
    pub fn deep_page(data: &DataSet) -> Self {
        let requests = data.apps[data.deep.clone()]
            .iter()
            .zip(&data.deep_cursors)
            .map(|(a, c)| Req::get(format!("{}/releases?limit={PAGE_LIMIT}&cursor={c}", a.base)));
        Self {
            requests: Arc::new(requests.collect()),
            expect: StatusCode::OK,
        }
    }

    /// A row of one request (the ceiling's).
    pub fn single(req: Req) -> Self {
        Self {
            requests: Arc::new(vec![req]),
            expect: StatusCode::OK,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.requests.is_empty()
    }
}

impl Workload for Reads {
    fn connection(&self, index: usize) -> Box<dyn ConnWork> {
        Box::new(ReadConn {
            requests: self.requests.clone(),
            expect: self.expect,
            rng: Rng::new(index as u64 + 1),
        })
    }
}

struct ReadConn {
    requests: Arc<Vec<Req>>,
    expect: StatusCode,
    rng: Rng,
}

impl ConnWork for ReadConn {
    fn next(&mut self) -> Step {
        let req = self.requests[self.rng.below(self.requests.len())].clone();
        Step {
            req,
            expect: self.expect,
            measured: true,
        }
    }
}

/// What the write rows know about one write app; kept across the three rows.
struct WriteApp {
    base: String,
    /// Every release, ascending by number.
    releases: Vec<ReleaseRef>,
    /// The active release's number.
    active: u64,
    /// Releases that have been active at some time, by number (rollback targets).
    ever_active: BTreeMap<u64, String>,
    /// Where the activate row's walk through `releases` is.
    cursor: usize,
    created: u64,
    /// The `ETag` the active release's read carries, while the `If-Match` row knows it.
    active_tag: Option<HeaderValue>,
}

/// The write apps, shared by the create, activate and rollback rows.
pub struct WriteApps {
    apps: Vec<Mutex<WriteApp>>,
}

/// Which write row a [`Writes`] workload drives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteKind {
    /// `POST …/releases` with a new tag (the app's full draft is copied).
    Create,
    /// The same, each with an `Idempotency-Key` of its own: what keeping the answer
    /// for retries costs.
    CreateKeyed,
    /// `POST …/releases/{id}/activate`, walking through the app's releases.
    Activate,
    /// The same with `If-Match`: the tag of the active release's read, computed
    /// from the previous activate's answer (one unmeasured read per app learns the
    /// first).
    ActivateIfMatch,
    /// `POST …/releases/{id}/rollback` to the newest earlier-active release below
    /// the active one; when none is left, one unmeasured activate of the newest
    /// release re-arms the chain.
    Rollback,
}

impl WriteApps {
    /// The write apps of `data`; on each, the newest release is the active one and
    /// every release has been active (they were all created with `activate: true`).
    pub fn new(data: &DataSet) -> Self {
        let apps = data.apps[data.write.clone()].iter().map(|a| {
            let active = a.releases.last().map_or(0, |r| r.number);
            Mutex::new(WriteApp {
                base: a.base.clone(),
                releases: a.releases.clone(),
                active,
                ever_active: a
                    .releases
                    .iter()
                    .map(|r| (r.number, r.id.clone()))
                    .collect(),
                cursor: 0,
                created: 0,
                active_tag: None,
            })
        });
        Self {
            apps: apps.collect(),
        }
    }

    pub fn len(&self) -> usize {
        self.apps.len()
    }

    /// Releases the create row made.
    pub fn created(&self) -> u64 {
        self.apps
            .iter()
            .map(|a| a.lock().expect("app lock").created)
            .sum()
    }
}

/// A write row over `connections` connections; connection `c` owns the apps whose
/// index is `c` modulo the connection count.
pub struct Writes {
    pub apps: Arc<WriteApps>,
    pub kind: WriteKind,
    pub connections: usize,
    /// Which run of the row this is (`--rounds`), so its new tags are its own.
    pub round: u32,
}

impl Workload for Writes {
    fn connection(&self, index: usize) -> Box<dyn ConnWork> {
        let owned = (index..self.apps.len()).step_by(self.connections).collect();
        Box::new(WriteConn {
            apps: self.apps.clone(),
            kind: self.kind,
            round: self.round,
            owned,
            turn: 0,
            index,
            pending: None,
        })
    }
}

struct WriteConn {
    apps: Arc<WriteApps>,
    kind: WriteKind,
    round: u32,
    owned: Vec<usize>,
    turn: usize,
    index: usize,
    /// The app and release (when switching) of the request in flight.
    pending: Option<(usize, Option<ReleaseRef>)>,
}

impl ConnWork for WriteConn {
    fn next(&mut self) -> Step {
        let slot = self.owned[self.turn % self.owned.len()];
        self.turn += 1;
        let mut app = self.apps.apps[slot].lock().expect("app lock");
        match self.kind {
            WriteKind::Create | WriteKind::CreateKeyed => {
                let keyed = self.kind == WriteKind::CreateKeyed;
                let tag = format!(
                    "{}{}-{}-{}",
                    if keyed { "k" } else { "c" },
                    self.round,
                    self.index,
                    self.turn
                );
                let body = json!({"release_tag": tag, "description": "Created by cutover-bench"});
                self.pending = Some((slot, None));
                let mut req = Req::post(format!("{}/releases", app.base), &body);
                if keyed {
                    let key = format!("cutover-bench-{tag}");
                    req.idempotency_key = HeaderValue::from_str(&key).ok();
                }
                Step {
                    req,
                    expect: StatusCode::CREATED,
                    measured: true,
                }
            }
            WriteKind::Activate | WriteKind::ActivateIfMatch => {
                let conditional = self.kind == WriteKind::ActivateIfMatch;
                if conditional && app.active_tag.is_none() {
                    self.pending = Some((slot, None));
                    return Step {
                        req: Req::get(format!("{}/releases/active", app.base)),
                        expect: StatusCode::OK,
                        measured: false,
                    };
                }
                let mut target = app.releases[app.cursor % app.releases.len()].clone();
                if target.number == app.active {
                    app.cursor += 1;
                    target = app.releases[app.cursor % app.releases.len()].clone();
                }
                app.cursor += 1;
                self.pending = Some((slot, Some(target.clone())));
                let mut step = switch(&app.base, &target, "activate", true);
                if conditional {
                    step.req.if_match = app.active_tag.clone();
                }
                step
            }
            WriteKind::Rollback => {
                let below = app.ever_active.range(..app.active).next_back();
                if let Some((&number, id)) = below {
                    let target = ReleaseRef {
                        id: id.clone(),
                        number,
                    };
                    self.pending = Some((slot, Some(target.clone())));
                    return switch(&app.base, &target, "rollback", true);
                }
                // Nothing older was ever active: activate the newest other release.
                let newest = app.releases.iter().rev().find(|r| r.number != app.active);
                let target = newest.expect("write apps have several releases").clone();
                self.pending = Some((slot, Some(target.clone())));
                switch(&app.base, &target, "activate", false)
            }
        }
    }

    fn answered(&mut self, answer: &Answer, ok: bool) {
        let Some((slot, target)) = self.pending.take() else {
            return;
        };
        if !ok {
            return;
        }
        let mut app = self.apps.apps[slot].lock().expect("app lock");
        match target {
            None if self.kind == WriteKind::ActivateIfMatch => {
                app.active_tag = answer.headers.get("etag").cloned();
            }
            None => {
                if let Ok(release) = answer.json().and_then(|b| ReleaseRef::from_answer(&b)) {
                    app.releases.push(release);
                    app.created += 1;
                }
            }
            Some(target) => {
                app.active = target.number;
                app.ever_active.insert(target.number, target.id);
                // Only an activate's answer tells the new tag; after any other switch
                // the If-Match row reads it again.
                app.active_tag = (self.kind == WriteKind::ActivateIfMatch)
                    .then(|| tag_of_answer(answer))
                    .flatten();
            }
        }
    }
}

/// The tag `GET …/releases/active` answers for the release an activate's answer
/// made active.
fn tag_of_answer(answer: &Answer) -> Option<HeaderValue> {
    let body = answer.json().ok()?;
    let release: ReleaseSummary = serde_json::from_value(body["release"].clone()).ok()?;
    HeaderValue::from_str(EntityTag::of_release(&release).as_str()).ok()
}

fn switch(base: &str, target: &ReleaseRef, action: &str, measured: bool) -> Step {
    let path = format!("{base}/releases/{}/{action}", target.id);
    Step {
        req: Req::post_empty(path),
        expect: StatusCode::OK,
        measured,
    }
}
