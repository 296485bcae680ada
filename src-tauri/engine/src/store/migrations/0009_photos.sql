-- Photos of documents: where the page was found in the photo (its four corners, JSON), for
-- pages read straightened; NULL for every other page.
ALTER TABLE pages ADD COLUMN photo_corners TEXT;
