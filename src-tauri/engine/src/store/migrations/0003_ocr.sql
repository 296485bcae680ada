-- Degrees (clockwise) the OCR reader turned a page's pixels to read it upright.
ALTER TABLE pages ADD COLUMN turned INTEGER NOT NULL DEFAULT 0;
