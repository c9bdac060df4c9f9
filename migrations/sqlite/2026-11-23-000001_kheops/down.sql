DROP TABLE capabilities;
DROP TRIGGER album_users_last_member;
DROP TABLE album_users;
DROP TABLE albums;
