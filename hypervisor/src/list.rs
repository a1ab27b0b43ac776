//! Intrusive doubly-linked lists, as Xen's `list_head` but null-terminated so that a
//! list head may move (the simulator keeps heads inside boxed structs that are moved
//! before they are initialised).
//!
//! The core never allocates: a unit carries its own links (one for the run queue, one
//! for the accounting list), and a list only threads them together. Insertion, removal
//! and pop are O(1).
//!
//! Contract (the callers in this crate keep it, never the C host): a link is on at most
//! one list at a time, membership is tracked by the owner (the unit's state flags), and
//! every linked object stays alive until it is unlinked.

use core::ptr;

/// Embedded in an object that can be on a list.
#[repr(C)]
#[derive(Debug)]
pub struct Link {
    prev: *mut Link,
    next: *mut Link,
}

impl Link {
    pub const fn new() -> Link {
        Link { prev: ptr::null_mut(), next: ptr::null_mut() }
    }

    /// The following link on the same list, or null at the tail.
    pub fn next(&self) -> *mut Link {
        self.next
    }

    /// The preceding link on the same list, or null at the head.
    pub fn prev(&self) -> *mut Link {
        self.prev
    }
}

impl Default for Link {
    fn default() -> Link {
        Link::new()
    }
}

/// The list itself: first and last element, and the length (for dumps and tests).
#[repr(C)]
#[derive(Debug)]
pub struct ListHead {
    first: *mut Link,
    last: *mut Link,
    len: u32,
}

impl Default for ListHead {
    fn default() -> ListHead {
        ListHead::new()
    }
}

impl ListHead {
    pub const fn new() -> ListHead {
        ListHead { first: ptr::null_mut(), last: ptr::null_mut(), len: 0 }
    }

    pub fn is_empty(&self) -> bool {
        self.first.is_null()
    }

    pub fn len(&self) -> u32 {
        self.len
    }

    /// First link, or null.
    pub fn front(&self) -> *mut Link {
        self.first
    }

    /// Last link, or null.
    pub fn back(&self) -> *mut Link {
        self.last
    }

    /// Inserts `link` right after `at`, or at the head when `at` is null.
    ///
    /// # Safety
    /// `link` is valid and on no list; `at` is null or a member of this list.
    pub unsafe fn insert_after(&mut self, at: *mut Link, link: *mut Link) {
        if at.is_null() {
            // SAFETY: per the contract.
            return unsafe { self.push_front(link) };
        }
        // SAFETY: `at` and its successor are live members of this list.
        unsafe {
            let next = (*at).next;
            (*link).prev = at;
            (*link).next = next;
            (*at).next = link;
            if next.is_null() {
                self.last = link;
            } else {
                (*next).prev = link;
            }
        }
        self.len += 1;
    }

    /// Appends `link`.
    ///
    /// # Safety
    /// `link` is valid and on no list.
    pub unsafe fn push_back(&mut self, link: *mut Link) {
        // SAFETY: the caller guarantees `link` is valid and unlinked; `self.last`, when
        // not null, is a live member of this list.
        unsafe {
            (*link).next = ptr::null_mut();
            (*link).prev = self.last;
            if self.last.is_null() {
                self.first = link;
            } else {
                (*self.last).next = link;
            }
        }
        self.last = link;
        self.len += 1;
    }

    /// Prepends `link`.
    ///
    /// # Safety
    /// `link` is valid and on no list.
    pub unsafe fn push_front(&mut self, link: *mut Link) {
        // SAFETY: as for `push_back`, mirrored.
        unsafe {
            (*link).prev = ptr::null_mut();
            (*link).next = self.first;
            if self.first.is_null() {
                self.last = link;
            } else {
                (*self.first).prev = link;
            }
        }
        self.first = link;
        self.len += 1;
    }

    /// Unlinks `link`.
    ///
    /// # Safety
    /// `link` is a member of this list.
    pub unsafe fn remove(&mut self, link: *mut Link) {
        // SAFETY: `link` and its neighbours are live members of this list.
        unsafe {
            let prev = (*link).prev;
            let next = (*link).next;
            if prev.is_null() {
                self.first = next;
            } else {
                (*prev).next = next;
            }
            if next.is_null() {
                self.last = prev;
            } else {
                (*next).prev = prev;
            }
            (*link).prev = ptr::null_mut();
            (*link).next = ptr::null_mut();
        }
        self.len -= 1;
    }

    /// Removes and returns the first link, or null.
    ///
    /// # Safety
    /// The list's members are live.
    pub unsafe fn pop_front(&mut self) -> *mut Link {
        let first = self.first;
        if !first.is_null() {
            // SAFETY: `first` is a member of this list.
            unsafe { self.remove(first) };
        }
        first
    }
}

/// The address of the struct that holds `$link` in its field `$field`.
macro_rules! container_of {
    ($link:expr, $type:ty, $field:ident) => {
        ($link as *mut u8).wrapping_sub(core::mem::offset_of!($type, $field)) as *mut $type
    };
}
pub(crate) use container_of;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_pop_remove_keep_order() {
        let mut links: [Link; 4] = [Link::new(), Link::new(), Link::new(), Link::new()];
        let ptrs: std::vec::Vec<*mut Link> = links.iter_mut().map(|l| l as *mut Link).collect();
        let mut list = ListHead::new();
        // SAFETY: the links live in `links` for the whole test and are in no other list;
        // each is pushed once and removed at most once.
        unsafe {
            list.push_back(ptrs[1]);
            list.push_back(ptrs[2]);
            list.push_front(ptrs[0]);
            list.push_back(ptrs[3]);
            assert_eq!(list.len(), 4);
            list.remove(ptrs[2]);
            assert_eq!(list.pop_front(), ptrs[0]);
            assert_eq!(list.pop_front(), ptrs[1]);
            assert_eq!(list.pop_front(), ptrs[3]);
            assert!(list.pop_front().is_null());
            assert!(list.is_empty());
        }
    }

    #[test]
    fn insert_after_links_both_ways() {
        let mut links: [Link; 3] = [Link::new(), Link::new(), Link::new()];
        let ptrs: std::vec::Vec<*mut Link> = links.iter_mut().map(|l| l as *mut Link).collect();
        let mut list = ListHead::new();
        // SAFETY: as above; each `after` is null or a link already in this list.
        unsafe {
            list.insert_after(ptr::null_mut(), ptrs[1]);
            list.insert_after(ptrs[1], ptrs[2]);
            list.insert_after(ptr::null_mut(), ptrs[0]);
            assert_eq!((list.len(), list.front(), list.back()), (3, ptrs[0], ptrs[2]));
            assert_eq!(((*ptrs[1]).prev(), (*ptrs[1]).next()), (ptrs[0], ptrs[2]));
            assert_eq!(list.pop_front(), ptrs[0]);
            assert_eq!(list.pop_front(), ptrs[1]);
            assert_eq!(list.pop_front(), ptrs[2]);
        }
    }
}
