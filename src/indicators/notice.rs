//! What a long-running operation tells its caller while it runs (a set reloaded, running
//! counters, lines lost to a rotation): the library never prints; it hands each notice to an
//! observer its caller chose. The command line prints them on stderr.

use std::fmt;
use std::sync::Arc;

/// The observer of notices: called with each notice's text, one line without a program-name
/// prefix, from whichever thread noticed it.
///
/// The default hears nothing; what a notice says is also counted in the operation's result
/// where it is a loss (lost files, late bytes, reloads), so a caller may read the counters
/// instead.
#[derive(Clone)]
pub struct Notices(Arc<dyn Fn(&str) + Send + Sync>);

impl Notices {
    /// Notices handed to `observe`.
    pub fn new(observe: impl Fn(&str) + Send + Sync + 'static) -> Notices {
        Notices(Arc::new(observe))
    }

    /// Notices nobody hears.
    pub fn ignored() -> Notices {
        Notices::new(|_| {})
    }

    /// Hands `notice` to the observer.
    pub fn say(&self, notice: impl fmt::Display) {
        (self.0)(&notice.to_string());
    }
}

impl Default for Notices {
    fn default() -> Self {
        Notices::ignored()
    }
}

impl fmt::Debug for Notices {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Notices")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn each_notice_reaches_the_observer_once_in_order() {
        let heard = Arc::new(Mutex::new(Vec::new()));
        let to = heard.clone();
        let notices = Notices::new(move |n| to.lock().unwrap().push(n.to_string()));
        notices.clone().say("one");
        notices.say(format_args!("{} {}", "two", 2));
        Notices::default().say("nobody hears this");
        assert_eq!(*heard.lock().unwrap(), ["one", "two 2"]);
    }
}
