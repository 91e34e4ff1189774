//! SQLite's memory through mimalloc, without its allocation statistics.
//!
//! SQLite allocates with the C library's `malloc` unless told otherwise, and
//! by default counts every allocation under one global mutex (the figures
//! behind `sqlite3_status`, which Dossier never reads). Under concurrent
//! reads both showed in profiles of the server (glibc's `malloc_consolidate`
//! and the mutex), growing with the size of the rows read: see
//! docs/performance.md. Here SQLite is given mimalloc, the allocator the rest
//! of the process uses, and told not to count.
//!
//! It must happen before SQLite starts (the first connection); a later call
//! is refused by SQLite and changes nothing.
#![allow(unsafe_code)]

use std::ffi::{c_int, c_void};

use libmimalloc_sys as mi;
use libsqlite3_sys as ffi;

unsafe extern "C" fn malloc(size: c_int) -> *mut c_void {
    // SQLite never asks for a negative size; mimalloc's blocks are 16-byte aligned (SQLite needs 8).
    unsafe { mi::mi_malloc(size.max(0) as usize) }
}

unsafe extern "C" fn free(block: *mut c_void) {
    unsafe { mi::mi_free(block) }
}

unsafe extern "C" fn realloc(block: *mut c_void, size: c_int) -> *mut c_void {
    unsafe { mi::mi_realloc(block, size.max(0) as usize) }
}

unsafe extern "C" fn size(block: *mut c_void) -> c_int {
    let usable = unsafe { mi::mi_usable_size(block) };
    c_int::try_from(usable).unwrap_or(c_int::MAX)
}

unsafe extern "C" fn roundup(size: c_int) -> c_int {
    let good = unsafe { mi::mi_good_size(size.max(0) as usize) };
    c_int::try_from(good).unwrap_or(size)
}

unsafe extern "C" fn init(_: *mut c_void) -> c_int {
    ffi::SQLITE_OK
}

unsafe extern "C" fn shutdown(_: *mut c_void) {}

/// Give SQLite mimalloc and turn its allocation statistics off; call before
/// anything opens a database. Returns whether SQLite took both.
pub fn use_mimalloc() -> bool {
    let methods = ffi::sqlite3_mem_methods {
        xMalloc: Some(malloc),
        xFree: Some(free),
        xRealloc: Some(realloc),
        xSize: Some(size),
        xRoundup: Some(roundup),
        xInit: Some(init),
        xShutdown: Some(shutdown),
        pAppData: std::ptr::null_mut(),
    };
    // SAFETY: both options are set before SQLite is initialised (SQLite
    // refuses them afterwards with SQLITE_MISUSE, and nothing changes); the
    // methods are copied by SQLite, and each forwards to mimalloc, which is
    // thread-safe and returns blocks aligned for any C type.
    unsafe {
        let malloc = ffi::sqlite3_config(ffi::SQLITE_CONFIG_MALLOC, &methods as *const ffi::sqlite3_mem_methods);
        let statistics = ffi::sqlite3_config(ffi::SQLITE_CONFIG_MEMSTATUS, 0 as c_int);
        malloc == ffi::SQLITE_OK && statistics == ffi::SQLITE_OK
    }
}
