//! One async lock per app for the writes that are prepared before they reach the
//! writer thread (draft writes and release cuts). Holding it from the read to the
//! write means nothing else of this process changes that app's draft in between (the
//! process owns the file), so a prepared write almost never has to be prepared again;
//! and one app's writes wait here, in their own queue, instead of filling the writer's
//! queue ahead of every other app's.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use cutover_domain::AppId;
use tokio::sync::OwnedMutexGuard;

#[derive(Default)]
pub(crate) struct AppLocks {
    locks: Mutex<Locks>,
}

#[derive(Default)]
struct Locks {
    by_app: HashMap<AppId, Weak<tokio::sync::Mutex<()>>>,
    /// When the map reaches this size, entries of apps no one holds are dropped, so
    /// it stays within twice the number of apps being written at once.
    sweep_at: usize,
}

impl AppLocks {
    /// Waits for the app's lock; it is released when the guard drops.
    pub(crate) async fn lock(&self, app_id: &AppId) -> OwnedMutexGuard<()> {
        let lock = {
            let mut locks = self.locks.lock().expect("app lock map");
            match locks.by_app.get(app_id).and_then(Weak::upgrade) {
                Some(lock) => lock,
                None => {
                    if locks.by_app.len() >= locks.sweep_at {
                        locks.by_app.retain(|_, lock| lock.strong_count() > 0);
                        locks.sweep_at = (locks.by_app.len() * 2).max(64);
                    }
                    let lock = Arc::new(tokio::sync::Mutex::new(()));
                    locks.by_app.insert(app_id.clone(), Arc::downgrade(&lock));
                    lock
                }
            }
        };
        lock.lock_owned().await
    }

    #[cfg(test)]
    fn tracked(&self) -> usize {
        self.locks.lock().expect("app lock map").by_app.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_holder_per_app_and_the_map_stays_small() {
        let locks = Arc::new(AppLocks::default());
        let app = AppId::generate();
        let held = locks.lock(&app).await;
        let waiting = {
            let (locks, app) = (locks.clone(), app.clone());
            tokio::spawn(async move { drop(locks.lock(&app).await) })
        };
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished(), "a second writer of the app waits");
        let other = locks.lock(&AppId::generate()).await;
        drop((held, other));
        waiting.await.unwrap();
        for _ in 0..1_000 {
            drop(locks.lock(&AppId::generate()).await);
        }
        assert!(locks.tracked() <= 128, "{} entries kept", locks.tracked());
    }
}
