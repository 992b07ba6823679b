//! IFEval: the 25 instruction checkers, strict and loose.
