//! One command's setup: config, id, log, vault client, cache and async runtime.
//!
//! Nothing here runs for `get-plugin-metadata`, which must touch neither network nor disk.

use crate::config::SignerConfig;
use crate::error::SignError;
use crate::material::{Material, Origin, Resolver};
use notation_akv_keyvault::cache::{Cache, CacheKey};
use notation_akv_keyvault::{Deadline, ObjectId, RequestLog, VaultClient};
use std::collections::BTreeMap;

/// Looks up environment variables (the process environment, or a fixed map in tests).
pub type Env = dyn Fn(&str) -> Option<String> + Send + Sync;

/// Everything a command works with.
pub struct Session {
    pub id: ObjectId,
    pub config: SignerConfig,
    pub log: RequestLog,
    pub vault: VaultClient,
    pub cache: Option<Cache>,
    command: &'static str,
}

impl Session {
    /// Validates the request's id and config, and prepares (without network) the vault access.
    pub fn open(
        command: &'static str,
        key_id: &str,
        plugin_config: &BTreeMap<String, String>,
        env: &Env,
    ) -> Result<Session, SignError> {
        let config = SignerConfig::read(plugin_config, env)?;
        let id = ObjectId::parse(key_id)?;
        let log = match &config.vault.log_file {
            Some(path) => RequestLog::open(path).map_err(|e| {
                SignError::Config(notation_akv_keyvault::settings::SettingsError(format!(
                    "log_file {}: cannot open it for appending: {e}",
                    path.display()
                )))
            })?,
            None => RequestLog::disabled(),
        };
        log.note(&format!("{command} {key_id}"));
        let deadline = Deadline::new(config.vault.timeout);
        let vault = VaultClient::new(
            id.endpoint(),
            id.cloud(),
            &config.vault,
            deadline,
            log.clone(),
            env,
        );
        let cache = Cache::open(&config.vault.cache, log.clone());
        if let Some(cache) = &cache {
            vault.remember_challenges(cache.clone());
        }
        Ok(Session {
            id,
            config,
            log,
            vault,
            cache,
            command,
        })
    }

    /// The signing material, from the cache or the vault.
    pub async fn material(&self) -> Result<(Material, Origin, CacheKey), SignError> {
        Resolver {
            id: &self.id,
            source: &self.config.chain,
            vault: &self.vault,
            cache: self.cache.as_ref(),
            log: &self.log,
        }
        .resolve()
        .await
    }

    /// Forgets cached material the vault just contradicted.
    pub fn forget(&self, key: &CacheKey) {
        if let Some(cache) = &self.cache {
            cache.remove(key);
        }
    }

    /// Writes the command's summary line to the log.
    pub fn finish<T>(&self, result: &Result<T, SignError>) {
        let outcome = match result {
            Ok(_) => "ok".to_string(),
            Err(e) => format!("failed: {e}"),
        };
        self.log.note(&format!(
            "{} done after {} HTTP exchange(s), credential {}; {outcome}",
            self.command,
            self.vault.exchanges(),
            self.vault.credential_used().unwrap_or("none")
        ));
    }
}

/// Runs `future` on a single-threaded runtime: one command, one vault, no need for more.
pub fn block_on<F: std::future::Future>(future: F) -> Result<F::Output, SignError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| SignError::Internal(format!("cannot start the async runtime: {e}")))?;
    Ok(runtime.block_on(future))
}
