#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| akv_fuzz_targets::run("revocation_cache_entry", data));
