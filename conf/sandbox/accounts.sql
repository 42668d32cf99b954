-- Accounts of the sandbox, created on the primary once replicas replicate from
-- it (or before: replicas start from the first GTID), so they exist everywhere.
-- Placeholders (a name in braces): password
CREATE USER 'repl'@'127.0.0.1' IDENTIFIED BY '{password}';
GRANT REPLICATION SLAVE ON *.* TO 'repl'@'127.0.0.1';

-- What caretaker needs: replication status (REPLICA MONITOR on MariaDB >= 10.5),
-- the process list and reads (heartbeat).
CREATE USER 'caretaker'@'127.0.0.1' IDENTIFIED BY '{password}';
GRANT REPLICA MONITOR, PROCESS, SELECT ON *.* TO 'caretaker'@'127.0.0.1';

-- Same password, no privileges: tests of the "missing privilege" error.
CREATE USER 'caretaker_nopriv'@'127.0.0.1' IDENTIFIED BY '{password}';

-- HAProxy `option mysql-check user haproxy_check post-41`: no password.
CREATE USER 'haproxy_check'@'127.0.0.1';
