pub const VERSION: u32 = 1;
