#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| akv_fuzz_targets::run("jwk", data));
