//! Memory-mapped files that another process truncates or rewrites in place cannot crash
//! trawl.
//!
//! A set file is read through a memory map so that opening costs the same at any size (see
//! [`crate::indicators::read`]). When another process truncates the file (`cp new.tset intel.tset` opens
//! the destination with `O_TRUNC`; so does a half-finished copy), every read of a page past
//! the file's new end raises SIGBUS, whose default action kills the process. [`MapGuard`]
//! registers a mapping with a process-wide SIGBUS handler: a fault inside a registered mapping
//! replaces the whole mapping with anonymous zero pages (`mmap(MAP_FIXED)`, a plain system
//! call) and flags it damaged; the faulting read then resumes and reads zeros. Every reader of
//! set bytes is already safe on arbitrary bytes (lookups check every index and miss; the
//! `set_sections` fuzz target proves it), zeros included, so the set simply matches nothing
//! until the engine, which checks [`MapGuard::is_damaged`] between batches, reports the damage
//! and reloads the file. A fault anywhere else goes to the handler that was installed before
//! (Rust's stack-overflow handler), so genuine bugs still end the process as before.
//!
//! Alternatives weighed: reading the file into memory instead costs O(size) at open (50 MB
//! for a 1M-indicator set, against the ≤ 10 ms open this project promises) and twice the
//! memory during a reload; a private copy-on-write map (`MAP_PRIVATE`) still shares unwritten
//! pages with the file and faults the same way; a read lease (`F_SETLEASE`) only delays the
//! writer by the lease-break time and needs the file's owner or `CAP_LEASE`. Trawl itself
//! never writes a set in place (it renames a new file over the old one), so the handler only
//! ever runs after someone else's mistake.
//!
//! The registry the handler reads is a linked list of fixed blocks of slots that are never
//! freed; a slot's range is published with a sequence counter, so the handler (which may not
//! lock or allocate) reads it with atomic loads alone.

use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize, Ordering, fence};
use std::sync::{Once, OnceLock};

use memmap2::Mmap;

/// Slots per registry block.
const BLOCK_SLOTS: usize = 64;

/// One registered mapping.
struct Slot {
    /// Claimed by a live [`MapGuard`].
    taken: AtomicBool,
    /// Odd while `start` and `len` are being written.
    seq: AtomicUsize,
    /// First byte of the mapping.
    start: AtomicUsize,
    /// Bytes the mapping spans, rounded up to whole pages; 0 when free.
    len: AtomicUsize,
    /// The handler replaced the mapping with zero pages, or the owner marked it.
    damaged: AtomicBool,
}

impl Slot {
    const fn new() -> Slot {
        Slot {
            taken: AtomicBool::new(false),
            seq: AtomicUsize::new(0),
            start: AtomicUsize::new(0),
            len: AtomicUsize::new(0),
            damaged: AtomicBool::new(false),
        }
    }

    /// Publishes a range (the slot is held, so there is one writer).
    fn publish(&self, start: usize, len: usize) {
        self.seq.fetch_add(1, Ordering::Relaxed);
        fence(Ordering::Release);
        self.start.store(start, Ordering::Relaxed);
        self.len.store(len, Ordering::Relaxed);
        self.seq.fetch_add(1, Ordering::Release);
    }

    /// The published range, unless a write is under way.
    fn range(&self) -> Option<(usize, usize)> {
        let before = self.seq.load(Ordering::Acquire);
        let (start, len) = (
            self.start.load(Ordering::Relaxed),
            self.len.load(Ordering::Relaxed),
        );
        fence(Ordering::Acquire);
        (before % 2 == 0 && self.seq.load(Ordering::Relaxed) == before && len > 0)
            .then_some((start, len))
    }
}

/// A block of slots; blocks are appended, never freed (the handler may read one at any time).
struct Block {
    slots: [Slot; BLOCK_SLOTS],
    next: AtomicPtr<Block>,
}

impl Block {
    const fn new() -> Block {
        Block {
            slots: [const { Slot::new() }; BLOCK_SLOTS],
            next: AtomicPtr::new(ptr::null_mut()),
        }
    }

    fn next(&self) -> Option<&'static Block> {
        // SAFETY: `next` is null or a leaked `Box<Block>`, valid for the rest of the process.
        unsafe { self.next.load(Ordering::Acquire).as_ref() }
    }
}

static REGISTRY: Block = Block::new();

/// The SIGBUS disposition found before ours, to forward faults that are not ours to.
static PREVIOUS: OnceLock<Previous> = OnceLock::new();

struct Previous(libc::sigaction);

// SAFETY: a `sigaction` is plain data (a handler address, a mask, flags); it is written once
// before the handler is installed and only read afterwards.
unsafe impl Sync for Previous {}
// SAFETY: as above.
unsafe impl Send for Previous {}

/// A registered mapping: while it lives, a SIGBUS inside the mapping turns the mapping into
/// zero pages instead of killing the process. Drop it before the mapping is unmapped.
#[derive(Debug)]
pub(crate) struct MapGuard {
    slot: &'static Slot,
}

impl std::fmt::Debug for Slot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Slot")
            .field("range", &self.range())
            .field("damaged", &self.damaged.load(Ordering::Relaxed))
            .finish()
    }
}

impl MapGuard {
    /// Registers `map` (installing the SIGBUS handler on first use).
    ///
    /// # Safety
    ///
    /// The guard must be dropped before `map` is unmapped: while the guard lives, the handler
    /// may map zero pages over the address range `map` has now.
    pub(crate) unsafe fn new(map: &Mmap) -> MapGuard {
        install();
        let page = page_size();
        let start = map.as_ptr() as usize;
        let len = map.len().div_ceil(page) * page;
        let slot = claim();
        slot.damaged.store(false, Ordering::Relaxed);
        slot.publish(start, len);
        MapGuard { slot }
    }

    /// Whether the mapped file was truncated under the mapping (which now reads as zeros), or
    /// [`MapGuard::mark_damaged`] was called.
    #[inline]
    pub(crate) fn is_damaged(&self) -> bool {
        self.slot.damaged.load(Ordering::Relaxed)
    }

    /// Flags the mapping as no longer showing the file that was opened (the file was
    /// rewritten in place without a fault yet).
    pub(crate) fn mark_damaged(&self) {
        self.slot.damaged.store(true, Ordering::Relaxed);
    }
}

impl Drop for MapGuard {
    fn drop(&mut self) {
        self.slot.publish(0, 0);
        self.slot.taken.store(false, Ordering::Release);
    }
}

/// A free slot, from the first block with one; appends a block when all are taken.
fn claim() -> &'static Slot {
    let mut block: &'static Block = &REGISTRY;
    loop {
        for slot in &block.slots {
            if slot
                .taken
                .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
            {
                return slot;
            }
        }
        block = match block.next() {
            Some(next) => next,
            None => {
                let fresh = Box::into_raw(Box::new(Block::new()));
                match block.next.compare_exchange(
                    ptr::null_mut(),
                    fresh,
                    Ordering::AcqRel,
                    Ordering::Acquire,
                ) {
                    // SAFETY: `fresh` was just leaked from a Box and is now published.
                    Ok(_) => unsafe { &*fresh },
                    Err(_) => {
                        // Another thread appended first: free ours, walk on to theirs.
                        // SAFETY: `fresh` was never published.
                        drop(unsafe { Box::from_raw(fresh) });
                        continue;
                    }
                }
            }
        };
    }
}

/// The registered slot whose range holds `addr`. Async-signal-safe: atomic loads only.
fn find(addr: usize) -> Option<&'static Slot> {
    let mut block: Option<&'static Block> = Some(&REGISTRY);
    while let Some(b) = block {
        for slot in &b.slots {
            if let Some((start, len)) = slot.range() {
                if addr >= start && addr - start < len {
                    return Some(slot);
                }
            }
        }
        block = b.next();
    }
    None
}

fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let n = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(n).unwrap_or(4096).max(1)
}

/// Installs the handler once, after remembering the disposition it replaces.
fn install() {
    static INSTALLED: Once = Once::new();
    INSTALLED.call_once(|| {
        // SAFETY: sigaction with zeroed structs and a valid handler address. The previous
        // disposition is stored in `PREVIOUS` before ours is installed, so the handler always
        // finds it.
        unsafe {
            let mut old: libc::sigaction = std::mem::zeroed();
            libc::sigaction(libc::SIGBUS, ptr::null(), &mut old);
            let _ = PREVIOUS.set(Previous(old));
            let mut new: libc::sigaction = std::mem::zeroed();
            new.sa_sigaction = on_sigbus as *const () as usize;
            new.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
            libc::sigemptyset(&mut new.sa_mask);
            // On failure faults keep their old meaning; nothing else to do.
            libc::sigaction(libc::SIGBUS, &new, ptr::null_mut());
        }
    });
}

/// The SIGBUS handler. Runs on the faulting thread, possibly on its alternate signal stack;
/// uses only atomics, `mmap` and `sigaction` (system calls, no locks, no allocation).
extern "C" fn on_sigbus(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo to an SA_SIGINFO handler.
    let addr = unsafe { (*info).si_addr() } as usize;
    if let Some(slot) = find(addr) {
        if let Some((start, len)) = slot.range() {
            // SAFETY: [start, start + len) is the whole registered mapping, which its guard
            // keeps mapped while it is registered (the contract of `MapGuard::new`), and the
            // faulting thread is reading it right now. MAP_FIXED swaps its pages for private
            // zero pages in one step; trawl only ever reads them.
            let p = unsafe {
                libc::mmap(
                    start as *mut libc::c_void,
                    len,
                    libc::PROT_READ,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
                    -1,
                    0,
                )
            };
            if p != libc::MAP_FAILED {
                slot.damaged.store(true, Ordering::Relaxed);
                return;
            }
        }
    }
    forward(sig, info, ctx);
}

/// Hands a fault that is not ours to the previous handler; with none, restores the default
/// action, so that returning re-runs the faulting access and ends the process as it would
/// have without trawl's handler.
fn forward(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    let previous = PREVIOUS.get().map(|p| p.0);
    match previous {
        Some(old)
            if old.sa_sigaction != libc::SIG_DFL
                && old.sa_sigaction != libc::SIG_IGN
                && old.sa_flags & libc::SA_SIGINFO != 0 =>
        {
            // SAFETY: an SA_SIGINFO handler has this signature; we pass the kernel's arguments.
            let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
                unsafe { std::mem::transmute(old.sa_sigaction) };
            f(sig, info, ctx);
        }
        Some(old) if old.sa_sigaction != libc::SIG_DFL && old.sa_sigaction != libc::SIG_IGN => {
            // SAFETY: a handler without SA_SIGINFO takes the signal number alone.
            let f: extern "C" fn(libc::c_int) = unsafe { std::mem::transmute(old.sa_sigaction) };
            f(sig);
        }
        _ => {
            // SAFETY: resetting a disposition to its default is always valid.
            unsafe {
                let mut dfl: libc::sigaction = std::mem::zeroed();
                dfl.sa_sigaction = libc::SIG_DFL;
                libc::sigaction(libc::SIGBUS, &dfl, ptr::null_mut());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn a_truncated_file_reads_as_zeros_and_is_flagged() {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(&vec![7u8; 3 * page_size() + 100]).unwrap();
        f.flush().unwrap();
        // SAFETY: the test truncates the file on purpose; the guard below catches the fault.
        let map = unsafe { Mmap::map(f.as_file()) }.unwrap();
        // SAFETY: `guard` is dropped before `map`.
        let guard = unsafe { MapGuard::new(&map) };
        assert_eq!(map[5], 7);
        assert!(!guard.is_damaged());
        f.as_file().set_len(0).unwrap();
        let far = std::hint::black_box(map.len() - 1);
        assert_eq!(map[far], 0, "a read past the new end sees a zero page");
        assert!(guard.is_damaged());
        assert!(
            map.iter().all(|&b| b == 0),
            "the whole mapping reads as zeros"
        );
        drop(guard);
        drop(map);
    }

    #[test]
    fn many_guards_spill_into_new_blocks_and_free_their_slots() {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(b"x").unwrap();
        f.flush().unwrap();
        let maps: Vec<Mmap> = (0..3 * BLOCK_SLOTS)
            // SAFETY: nobody modifies the file.
            .map(|_| unsafe { Mmap::map(f.as_file()) }.unwrap())
            .collect();
        // SAFETY: the guards are dropped before the maps.
        let guards: Vec<MapGuard> = maps.iter().map(|m| unsafe { MapGuard::new(m) }).collect();
        for (m, g) in maps.iter().zip(&guards) {
            let found = find(m.as_ptr() as usize).expect("registered");
            assert!(ptr::eq(found, g.slot));
        }
        let first = maps[0].as_ptr() as usize;
        drop(guards);
        assert!(find(first).is_none(), "a dropped guard frees its slot");
        drop(maps);
    }
}
