#!/usr/bin/env bash
# End-to-end check of a whole Compose stack, through the web page only, as a user would:
#   - it comes up healthy, the view count rises, a task is added, completed and deleted
#     through the forms, and /status shows every backend up;
#   - one page load leaves its request id in the logs of all three Rust services;
#   - with Redis stopped the page still answers 200 with the counter unavailable, db-service
#     logs the cause under the page's request id, and the count comes back with Redis; the
#     same with PostgreSQL, api-service and the task list;
#   - after `down` and `up` the data is still there;
#   - prod only: every Rust container runs as uid 65532 on a read-only filesystem, and
#     `docker stop` takes under a second with a clean exit.
#
#   docker/e2e.sh prod            # docker-compose.prod.yml, http://localhost:8031, left running
#   docker/e2e.sh dev             # docker-compose.yml, http://localhost:8030
#   docker/e2e.sh prod --down     # and remove the stack and its volumes afterwards
set -euo pipefail
# shellcheck source=docker/lib.sh
. "$(dirname "$0")/lib.sh"
cd "$repo"

stack=${1:-}
case "$stack" in
  prod) file=docker-compose.prod.yml port=8031 ;;
  dev) file=docker-compose.yml port=8030 ;;
  *) sed -n '2,14p' "$0"; exit 2 ;;
esac
remove_afterwards=false
[ "${2:-}" = --down ] && remove_afterwards=true
compose() { docker compose -f "$file" "$@"; }
url=http://127.0.0.1:$port
export GIT_REVISION=${GIT_REVISION:-$(lab_revision)} LAB_VERSION=${LAB_VERSION:-$(lab_version)}
export BUILD_DATE=${BUILD_DATE:-$(lab_created)}
checks=0

pass() { checks=$((checks + 1)); printf '  ok  %s\n' "$*"; }
fail() {
  printf '  FAIL %s\n' "$*" >&2
  compose ps >&2 || true
  compose logs --tail 30 >&2 || true
  exit 1
}
home() { curl -s -m 10 "$url/"; }
# home_as <request id>: the page, loaded with that x-request-id.
home_as() { curl -s -m 10 -H "x-request-id: $1" "$url/"; }
# log_lines <service> <request id>: the service's log lines with that id. A backend may still
# be answering when the page is back (the page gives up on it after BACKEND_TIMEOUT), so this
# waits up to 15 s for the first line.
log_lines() {
  local deadline=$((SECONDS + 15)) lines
  until lines=$(compose logs --no-log-prefix "$1" 2>/dev/null | grep -F "$2"); do
    [ $SECONDS -lt $deadline ] || return 0
    sleep 1
  done
  printf '%s\n' "$lines"
}
# logged <service> <request id> [text]: whether a log line of the service has the id (and text).
# (No `grep -q` after a pipe: it exits at the first match, and pipefail counts the SIGPIPE.)
logged() { log_lines "$1" "$2" | grep -F "${3:-$2}" >/dev/null; }
# logged_cause <service> <request id>: whether the service answered 503 under that id and logged
# the error's causes on the line (JSON "error": in prod, error= in dev).
logged_cause() {
  log_lines "$1" "$2" | grep -F "answered 503: a dependency is unavailable" | grep -E 'error(=|":)' >/dev/null
}
status_of() { curl -s -m 10 -o /dev/null -w '%{http_code}' "$@"; }
views() { home | sed -n 's/.*viewed <strong>\([0-9]*\)<\/strong>.*/\1/p'; }
# post_form <path> [curl --data options]: prints "<status> <Location>".
post_form() {
  local path=$1
  shift
  curl -s -m 10 -o /dev/null -w '%{http_code} %header{location}' "$@" "$url$path"
}
# The id of the task whose title is $1, from the page.
task_id() { home | tr '\n' ' ' | sed -n "s/.*id=\"task-\([0-9]*\)\">[^<]*<div class=\"task-text\">[^<]*<span class=\"task-title\">$1<.*/\1/p"; }
wait_for_page() {  # wait_for_page <grep pattern> <what>
  local deadline=$((SECONDS + 60))
  until home | grep -q "$1"; do
    [ $SECONDS -lt $deadline ] || fail "$2 (waited 60 s)"
    sleep 1
  done
}

step "$stack stack: up --build --wait"
compose up -d --build --wait --wait-timeout 1800 || fail "the stack did not become healthy"
pass "every service with a health check is healthy"

step "the page, the counter and the forms"
[ "$(status_of "$url/")" = 200 ] || fail "GET / is not 200"
first=$(views) second=$(views)
[ -n "$first" ] && [ "$second" -gt "$first" ] || fail "the view count did not rise ($first, $second)"
pass "the view count rises: $first, then $second"

title="e2e task $$"
[ "$(post_form /tasks --data-urlencode "title=$title" --data-urlencode 'description=from docker/e2e.sh')" = "303 /" ] ||
  fail "adding a task did not redirect home"
id=$(task_id "$title")
[ -n "$id" ] || fail "the added task is not listed"
pass "a task added through the form is listed (id $id)"
[ "$(post_form "/tasks/$id/complete" -X POST)" = "303 /" ] || fail "completing did not redirect home"
home | grep -q "class=\"task done\" id=\"task-$id\"" || fail "the task is not shown completed"
pass "completing it through the form marks it done"
[ "$(post_form "/tasks/$id/delete" -X POST)" = "303 /" ] || fail "deleting did not redirect home"
home | grep -q "id=\"task-$id\"" && fail "the deleted task is still listed"
pass "deleting it through the form removes it"

ready=$(curl -s -m 10 "$url/status.json" | grep -o '"ready":true' | wc -l)
[ "$ready" = 2 ] || fail "/status.json does not show both backends ready"
pass "/status shows api-service and db-service up"

step "one request id across the three services' logs"
traced="e2e-$$-page"
home_as "$traced" >/dev/null
for service in web-service api-service db-service; do
  logged "$service" "$traced" || fail "$service logged nothing under the page's request id $traced"
done
pass "the page load's id $traced is in the logs of web-service, api-service and db-service"

# outage <service> <label> <what the page says while it is down> <what shows it is back>
#        <the Rust service that uses it>
outage() {
  local service=$1 label=$2 down_notice=$3 back=$4 user=$5 id="e2e-$$-$1-down"
  step "$label down, then back"
  compose stop "$service" >/dev/null 2>&1
  [ "$(status_of "$url/")" = 200 ] || fail "GET / is not 200 with $label down"
  home_as "$id" | grep -q "$down_notice" || fail "the page does not say '$down_notice' with $label down"
  pass "with $label stopped the page answers 200 and says: $down_notice"
  logged_cause "$user" "$id" || fail "$user did not log its 503 with the cause under the page's request id $id"
  logged web-service "$id" "$user is unavailable" || fail "web-service did not log the degraded call under $id"
  pass "$user logged its 503 with the cause, and web-service the degraded call, under the page's id"
  compose start "$service" >/dev/null 2>&1
  wait_for_page "$back" "the page did not come back with $label"
  pass "with $label started again the page shows '$back' again"
}
outage redis Redis "The view counter is unavailable" "viewed <strong>" db-service
kept="kept across restarts $$"
post_form /tasks --data-urlencode "title=$kept" >/dev/null
outage postgres PostgreSQL "Tasks are unavailable right now" "$kept" api-service

step "down and up: the data survives"
count=$(views)
compose down >/dev/null 2>&1
compose up -d --wait --wait-timeout 600 >/dev/null 2>&1 || fail "the stack did not come back healthy"
home | grep -q "$kept" || fail "the task did not survive down/up"
after=$(views)
[ "$after" -gt "$count" ] || fail "the view count did not survive down/up ($count, then $after)"
pass "after down and up the task is listed and the count went on ($count, then $after)"
kept_id=$(task_id "$kept")
post_form "/tasks/$kept_id/delete" -X POST >/dev/null

if [ "$stack" = prod ]; then
  step "prod containers: non-root, read-only, quick to stop"
  for service in web-service api-service db-service; do
    container=$(compose ps -q "$service")
    read_only=$(docker inspect --format '{{.HostConfig.ReadonlyRootfs}}' "$container")
    [ "$read_only" = true ] || fail "$service has a writable root filesystem"
    check_user_and_stop "$container" || fail "$service: see above"
    pass "$service: uid 65532, read-only, stopped in $STOP_MS ms with status $EXIT_CODE"
  done
  # The stop checks stopped the Rust services: start them again, so that without --down the
  # stack is left running, as `up` left it, for what comes next (the browser check in CI).
  compose up -d --wait >/dev/null 2>&1 || fail "the stack did not come back after the stop checks"
fi

if [ "$remove_afterwards" = true ]; then
  compose down -v >/dev/null 2>&1
  pass "stack and volumes removed"
fi
step "$stack stack: $checks checks passed"
