//! Link, network and transport layers (being written on the `packet` branch).
