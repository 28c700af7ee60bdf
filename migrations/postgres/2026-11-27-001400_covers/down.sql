DROP TABLE cover_art;
DROP TABLE covers;
