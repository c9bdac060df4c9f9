DROP TABLE capabilities;
DROP TRIGGER album_users_last_member ON album_users;
DROP FUNCTION delete_memberless_album();
DROP TABLE album_users;
DROP TABLE albums;
