//! Attributes for tests that need something the machine may not have: a PostgreSQL
//! server (`TEST_POSTGRES_URL`) or a Chromium. Whether it is there is decided when the
//! tests are built (`build.rs`); when it is not, the attribute marks the test
//! `#[ignore]`, so that `cargo test` counts it as ignored and nextest as skipped,
//! instead of the test passing without having run. A test built with its
//! prerequisite runs, and must fail (not pass quietly) if it finds the prerequisite
//! gone; the helpers in each test crate do that.
//!
//! Cargo rebuilds this crate, and the tests that use it, when `TEST_POSTGRES_URL`,
//! `CUTOVER_CHROMIUM` or `CUTOVER_REQUIRE_CHROMIUM` change, or Chromium is installed
//! or removed; the libraries and the `cutover` binary never depend on it.

use proc_macro::TokenStream;

/// Marks a test that runs on PostgreSQL: ignored unless `TEST_POSTGRES_URL` was set
/// when the tests were built. Put it above or below `#[test]` / `#[tokio::test]`.
#[proc_macro_attribute]
pub fn needs_postgres(arguments: TokenStream, test: TokenStream) -> TokenStream {
    gate(
        arguments,
        test,
        cfg!(postgres_tests),
        "needs PostgreSQL: set TEST_POSTGRES_URL when building and running the tests",
    )
}

/// Marks the test that drives a headless Chromium: ignored unless one was found when
/// the tests were built (`CUTOVER_CHROMIUM`, else `/usr/bin/chromium`,
/// `chromium-browser` or `google-chrome`), or `CUTOVER_REQUIRE_CHROMIUM` was set.
#[proc_macro_attribute]
pub fn needs_chromium(arguments: TokenStream, test: TokenStream) -> TokenStream {
    gate(
        arguments,
        test,
        cfg!(chromium_tests),
        "needs Chromium: install it (apt-get install chromium) or set CUTOVER_CHROMIUM",
    )
}

/// The Chromium found when the tests were built, as a string literal (`""` when none
/// was, which a test built to run only sees under `CUTOVER_REQUIRE_CHROMIUM`).
#[proc_macro]
pub fn chromium_path(arguments: TokenStream) -> TokenStream {
    if !arguments.is_empty() {
        return compile_error("chromium_path!() takes no arguments");
    }
    let literal = proc_macro::Literal::string(env!("CUTOVER_TEST_CHROMIUM"));
    TokenStream::from(proc_macro::TokenTree::Literal(literal))
}

/// `test` as it is when `present`, else with `#[ignore = "<why>"]` in front.
fn gate(arguments: TokenStream, test: TokenStream, present: bool, why: &str) -> TokenStream {
    if !arguments.is_empty() {
        return compile_error("this attribute takes no arguments");
    }
    if present {
        return test;
    }
    let ignore: TokenStream = format!("#[ignore = {why:?}]")
        .parse()
        .expect("an ignore attribute parses");
    ignore.into_iter().chain(test).collect()
}

fn compile_error(message: &str) -> TokenStream {
    format!("::core::compile_error!({message:?});")
        .parse()
        .expect("a compile_error! invocation parses")
}
