//! Rows of `f32` that several training threads update at once without locks, as word2vec.c,
//! gensim and fastText do ("hogwild"): two threads touching the same row at the same moment
//! may lose part of one update, which sparse SGD tolerates, and no thread waits. No crate on
//! the registries offers this over a borrowed slice with SIMD kernels, hence this small type.

use std::marker::PhantomData;

use super::simd::Kernel;

/// A `[rows * dim]` table borrowed exclusively for the training run and shared by its threads.
pub struct HogwildRows<'a> {
    ptr: *mut f32,
    rows: usize,
    dim: usize,
    _borrow: PhantomData<&'a mut [f32]>,
}

// SAFETY: the table is borrowed exclusively for 'a, so only the threads holding this view
// touch it; their concurrent row updates are the hogwild trade described above (aligned
// 32-bit accesses are single-copy atomic on x86-64 and aarch64: no value is ever torn).
unsafe impl Send for HogwildRows<'_> {}
// SAFETY: as for Send.
unsafe impl Sync for HogwildRows<'_> {}

impl<'a> HogwildRows<'a> {
    /// A view of `table` as rows of `dim` (`dim` at least 1; a partial last row is left out).
    pub fn new(table: &'a mut [f32], dim: usize) -> HogwildRows<'a> {
        let dim = dim.max(1);
        HogwildRows {
            rows: table.len() / dim,
            ptr: table.as_mut_ptr(),
            dim,
            _borrow: PhantomData,
        }
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Row width.
    pub fn dim(&self) -> usize {
        self.dim
    }

    #[inline(always)]
    fn at(&self, r: usize) -> *mut f32 {
        assert!(r < self.rows, "row {r} of {}", self.rows);
        // SAFETY: r < rows, so the offset stays inside the borrowed table.
        unsafe { self.ptr.add(r * self.dim) }
    }

    /// `row r · x`.
    #[inline(always)]
    pub fn dot<K: Kernel>(&self, k: K, r: usize, x: &[f32]) -> f32 {
        let p = self.at(r);
        // SAFETY: `p` starts a row of `dim` floats inside the table (checked by `at`); the
        // slice lives only for this call; other threads may write the row meanwhile (hogwild).
        let row = unsafe { std::slice::from_raw_parts(p, self.dim) };
        k.dot(row, x)
    }

    /// `row r · other's row s` (two distinct tables).
    #[inline(always)]
    pub fn dot_rows<K: Kernel>(&self, k: K, r: usize, other: &HogwildRows<'_>, s: usize) -> f32 {
        let p = other.at(s);
        // SAFETY: as in `dot`: a row inside `other`, living only for this call.
        let row = unsafe { std::slice::from_raw_parts(p, other.dim) };
        self.dot(k, r, row)
    }

    /// `row r += a * x` (`x` must not be a row of this table).
    #[inline(always)]
    pub fn axpy<K: Kernel>(&self, k: K, r: usize, a: f32, x: &[f32]) {
        let p = self.at(r);
        // SAFETY: a row inside the table (checked by `at`), living only for this call; `x` is
        // not part of this table (callers pass scratch rows or rows of the other table).
        let row = unsafe { std::slice::from_raw_parts_mut(p, self.dim) };
        k.axpy(a, x, row);
    }

    /// `row r += a * other's row s` (two distinct tables).
    #[inline(always)]
    pub fn axpy_row<K: Kernel>(&self, k: K, r: usize, a: f32, other: &HogwildRows<'_>, s: usize) {
        let p = other.at(s);
        // SAFETY: a row inside `other`, a different table, living only for this call.
        let x = unsafe { std::slice::from_raw_parts(p, other.dim) };
        self.axpy(k, r, a, x);
    }

    /// `y += a * row r`.
    #[inline(always)]
    pub fn add_to<K: Kernel>(&self, k: K, r: usize, a: f32, y: &mut [f32]) {
        let p = self.at(r);
        // SAFETY: a row inside the table (checked by `at`), living only for this call; `y` is
        // borrowed mutably elsewhere, so it is not this row.
        let row = unsafe { std::slice::from_raw_parts(p, self.dim) };
        k.axpy(a, row, y);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::w2v::simd::Portable;

    #[test]
    fn rows_read_and_write_the_borrowed_table() {
        let mut a: Vec<f32> = (0..12).map(|i| i as f32).collect();
        let mut b = vec![1.0f32; 12];
        {
            let (ta, tb) = (HogwildRows::new(&mut a, 4), HogwildRows::new(&mut b, 4));
            assert_eq!((ta.rows(), ta.dim()), (3, 4));
            assert_eq!(ta.dot(Portable, 1, &[1.0; 4]), 4.0 + 5.0 + 6.0 + 7.0);
            assert_eq!(ta.dot_rows(Portable, 2, &tb, 0), 8.0 + 9.0 + 10.0 + 11.0);
            ta.axpy(Portable, 0, 2.0, &[1.0, 1.0, 1.0, 1.0]);
            tb.axpy_row(Portable, 1, -1.0, &ta, 1);
            let mut y = [0.0f32; 4];
            ta.add_to(Portable, 2, 0.5, &mut y);
            assert_eq!(y, [4.0, 4.5, 5.0, 5.5]);
        }
        assert_eq!(&a[..4], &[2.0, 3.0, 4.0, 5.0]);
        assert_eq!(&b[4..8], &[-3.0, -4.0, -5.0, -6.0]);
    }

    #[test]
    #[should_panic(expected = "row 3 of 3")]
    fn a_row_past_the_end_panics_instead_of_reading_outside() {
        let mut a = vec![0.0f32; 12];
        HogwildRows::new(&mut a, 4).dot(Portable, 3, &[0.0; 4]);
    }

    /// Two threads adding 1.0 into rows at once, 10 000 times each: on disjoint rows nothing
    /// is lost; on one shared row additions may be lost (hogwild: a thread preempted between
    /// its read and its write puts back an old value), but every value is a whole number of
    /// them, at most both threads' (no torn float).
    #[test]
    fn threads_update_shared_rows_without_locks() {
        let run = |shared: bool| {
            let mut t = vec![0.0f32; 2 * 8];
            {
                let rows = HogwildRows::new(&mut t, 8);
                std::thread::scope(|s| {
                    for th in 0..2 {
                        let rows = &rows;
                        s.spawn(move || {
                            for _ in 0..10_000 {
                                rows.axpy(Portable, if shared { 0 } else { th }, 1.0, &[1.0; 8]);
                            }
                        });
                    }
                });
            }
            t
        };
        assert!(
            run(false).iter().all(|&x| x == 10_000.0),
            "disjoint rows lose nothing"
        );
        let t = run(true);
        for &x in &t[..8] {
            assert!(x.fract() == 0.0 && (1.0..=20_000.0).contains(&x), "{x}");
        }
        assert!(
            t[8..].iter().all(|&x| x == 0.0),
            "the other row is untouched"
        );
    }
}
