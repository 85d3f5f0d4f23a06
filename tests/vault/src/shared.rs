//! One vault per test process, with the standard fixtures loaded.
//!
//! Starting a vault is cheap, but loading the fixtures generates RSA-4096 keys; test files that
//! share fixtures (and benchmarks) take this one instead of each building their own.

use crate::{Fixtures, TestVault};
use std::sync::OnceLock;

/// A running vault and the fixtures loaded into it.
pub struct SharedVault {
    pub vault: TestVault,
    pub fixtures: Fixtures,
}

/// The process-wide vault with [`TestVault::load_fixtures`] applied, started on first use.
/// Tests that change objects should work on their own names (or their own vault), since every
/// test in the process sees this one. Panics (failing the test) if the vault cannot start.
pub fn shared_with_fixtures() -> &'static SharedVault {
    static SHARED: OnceLock<SharedVault> = OnceLock::new();
    SHARED.get_or_init(|| {
        let vault = TestVault::start().expect("test vault starts");
        let fixtures = vault.load_fixtures().expect("fixtures load");
        SharedVault { vault, fixtures }
    })
}
