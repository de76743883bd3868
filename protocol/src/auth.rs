//! Signed peer requests and answers: who sent a message, and that nobody replayed it.
