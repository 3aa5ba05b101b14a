//! The `trawl` command. Its code is the library's `cli` module, a thin layer beside the
//! internals it wires together (which are not the library's API).

fn main() -> std::process::ExitCode {
    trawl::cli::main()
}
