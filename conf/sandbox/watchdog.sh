#!/bin/sh
# The sandbox watchdog: cleans up after an owner that died without tearing down.
#
# Usage: watchdog.sh DIR PID_FILE KEEP_DIR
# stdin is one end of a socketpair whose other end only the owning process holds.
# The owner writes "disarm" once it has torn down; EOF without it means the owner
# died (crash, SIGKILL, Ctrl-C): then every process listed in PID_FILE (lines
# "pid start_time name", start_time from /proc/PID/stat, so a reused pid is never
# hit) gets SIGKILL (its data is thrown away), with its process group if it
# leads one, and DIR is removed unless KEEP_DIR=1.
dir=$1
pid_file=$2
keep=$3

if read -r word && [ "$word" = disarm ]; then
  exit 0
fi
echo "watchdog: the sandbox owner is gone; cleaning up $dir"

# alive PID START: true while PID is that process (same start time), not a
# zombie. Sets pgrp to its process group.
alive() {
  stat=
  { read -r stat < "/proc/$1/stat"; } 2>/dev/null || return 1
  set -- "$2" ${stat##*) }   # then: state ppid pgrp ... (starttime is field 22)
  pgrp=$4
  [ "$2" != Z ] && [ "$2" != X ] && [ "${21}" = "$1" ]
}

if [ -r "$pid_file" ]; then
  while read -r pid start name; do
    if alive "$pid" "$start"; then
      echo "watchdog: kill -KILL $pid ($name)"
      kill -9 "$pid" 2>/dev/null
      # A session leader's helpers (mariadb-install-db's bootstrap server) too.
      if [ "$pgrp" = "$pid" ]; then kill -9 "-$pid" 2>/dev/null; fi
    fi
  done < "$pid_file"
  # Wait (up to 10 s) until they are gone, so the data dirs are not in use.
  tries=0
  while [ $tries -lt 100 ]; do
    busy=0
    while read -r pid start name; do
      if alive "$pid" "$start"; then busy=1; fi
    done < "$pid_file"
    [ $busy = 0 ] && break
    tries=$((tries + 1))
    sleep 0.1
  done
fi

# A replica's mariadbd started by its control script (a task step) is not in
# PID_FILE until the owner adopts it: its own pid file names it.
for f in "$dir"/*/mysqld.pid; do
  [ -r "$f" ] || continue
  read -r pid < "$f" || continue
  if tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$dir/"; then
    echo "watchdog: kill -KILL $pid (from $f)"
    kill -9 "$pid" 2>/dev/null
    tries=0
    while [ -d "/proc/$pid" ] && [ $tries -lt 100 ]; do tries=$((tries + 1)); sleep 0.1; done
  fi
done

if [ "$keep" != 1 ]; then
  rm -rf -- "$dir"
fi
exit 0
