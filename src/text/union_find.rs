//! Disjoint sets over `0..n` whose representative is always the smallest member, so the kept row of
//! a duplicate cluster (the first in input order) is simply the root.

pub(crate) struct UnionFind {
    parent: Vec<u32>,
}

impl UnionFind {
    /// `n` singletons; callers guarantee `n ≤ u32::MAX as usize + 1`.
    pub(crate) fn new(n: usize) -> Self {
        Self {
            parent: (0..n).map(|i| i as u32).collect(),
        }
    }

    /// The smallest member of `x`'s set (path halving keeps later finds short).
    pub(crate) fn find(&mut self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            let grandparent = self.parent[self.parent[x as usize] as usize];
            self.parent[x as usize] = grandparent;
            x = grandparent;
        }
        x
    }

    /// Merges the sets of `a` and `b`; returns false when they were already one set.
    pub(crate) fn union(&mut self, a: u32, b: u32) -> bool {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra == rb {
            return false;
        }
        let (small, large) = if ra < rb { (ra, rb) } else { (rb, ra) };
        self.parent[large as usize] = small;
        true
    }

    /// Every element's root.
    pub(crate) fn roots(&mut self) -> Vec<usize> {
        (0..self.parent.len() as u32)
            .map(|i| self.find(i) as usize)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_is_smallest_member() {
        let mut sets = UnionFind::new(6);
        assert!(sets.union(4, 5));
        assert!(sets.union(5, 2));
        assert!(!sets.union(4, 2));
        assert!(sets.union(3, 0));
        assert_eq!(sets.roots(), vec![0, 1, 2, 0, 2, 2]);
    }
}
