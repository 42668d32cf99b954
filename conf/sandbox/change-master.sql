-- Run on each replica. Placeholders (a name in braces): primary_port password
CHANGE MASTER TO
  MASTER_HOST = '127.0.0.1',
  MASTER_PORT = {primary_port},
  MASTER_USER = 'repl',
  MASTER_PASSWORD = '{password}',
  MASTER_USE_GTID = slave_pos,
  MASTER_CONNECT_RETRY = 1;
START SLAVE;
