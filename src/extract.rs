//! Free-text extraction of indicator-shaped tokens (to be written).
