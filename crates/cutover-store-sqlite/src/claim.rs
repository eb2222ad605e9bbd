//! One cutover process per SQLite database: the store holds an exclusive lock on a
//! `-lock` file beside the database for as long as it is open.
//!
//! Everything above the store may then trust that every write goes through this
//! process (see `Store::sole_writer`), which is what lets the server answer reads
//! from memory. Serving one database from several processes is what PostgreSQL is for.
//! The lock is `flock`-style (released by the kernel when the process dies, even by
//! SIGKILL) and lives on its own file because closing any descriptor of the database
//! file itself would drop SQLite's own POSIX locks.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::open_error::{Holder, OpenError};

/// Held while the store is open; dropping it releases the database.
#[derive(Debug)]
pub(crate) struct Claim {
    _file: File,
}

/// The lock file of the database at `database`: its path with `-lock` appended.
pub(crate) fn lock_path(database: &Path) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push("-lock");
    PathBuf::from(name)
}

/// Takes the database for this process, or says which process has it.
pub(crate) fn claim(database: &Path) -> Result<Claim, OpenError> {
    let path = lock_path(database);
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|source| OpenError::OpenLockFile {
            path: path.clone(),
            source,
        })?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = match holder.trim().parse() {
                Ok(id) => Holder::Process(id),
                Err(_) => Holder::Unknown,
            };
            return Err(OpenError::InUse {
                path: database.to_owned(),
                holder,
            });
        }
        Err(TryLockError::Error(source)) => return Err(OpenError::Lock { path, source }),
    }
    // Who holds it, for the message another process gets. Best effort: the lock,
    // not this text, is what keeps others out.
    let _ = file.set_len(0);
    let _ = file.seek(SeekFrom::Start(0));
    let _ = write!(file, "{}", std::process::id());
    let _ = file.flush();
    Ok(Claim { _file: file })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_claim_on_the_same_database_is_refused_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let database = dir.path().join("cutover.db");
        let first = claim(&database).expect("the first claim succeeds");
        let refused = claim(&database).expect_err("the second claim is refused");
        match &refused {
            OpenError::InUse { path, holder } => {
                assert_eq!(path, &database);
                assert_eq!(holder, &Holder::Process(std::process::id()));
            }
            other => panic!("refused for another reason: {other}"),
        }
        let said = refused.to_string();
        assert!(said.contains("is in use by process"), "{said}");
        drop(first);
        claim(&database).expect("free again once the first is dropped");
    }

    #[test]
    fn the_lock_file_sits_beside_the_database() {
        assert_eq!(
            lock_path(Path::new("/data/cutover.db")),
            PathBuf::from("/data/cutover.db-lock")
        );
    }
}
