#!/usr/bin/env bash
# Run a real Redmine (Debian's package, SQLite database) on 127.0.0.1 for the
# Redmine adapter's tests.
#
#   scripts/redmine-test-server.sh [start] [--port PORT] [--out FILE]
#       Installs Redmine if missing, configures it for API use, starts it on
#       127.0.0.1:PORT (default 3300, or $REDMINE_PORT) unless it is already
#       running there, waits until it answers, and prints (or writes to FILE)
#           REDMINE_URL=http://127.0.0.1:PORT
#           REDMINE_API_KEY=<the admin's API key>
#       in a form a shell can source. Safe to re-run. Also creates what the
#       tests need and Redmine's REST API can't create (see add_test_fixtures).
#   scripts/redmine-test-server.sh stop [--port PORT]
#       Stops the server started on PORT.
#   scripts/redmine-test-server.sh installed
#       Exits 0 when Debian's redmine package is installed, 1 otherwise.
#
# Installing needs root and the Debian package archive; later runs need neither
# network nor root, as long as the user may write Redmine's database.
set -euo pipefail

REDMINE_DIR=/usr/share/redmine
INSTANCE=default
CACHE_DIR=/var/cache/redmine/$INSTANCE
# Written once configuration has succeeded, so later runs skip the slow Rails runner.
CONFIGURED_MARK=/var/lib/redmine/$INSTANCE/.api-test-configured

action=start
port=${REDMINE_PORT:-3300}
out=""
while [ $# -gt 0 ]; do
    case "$1" in
        start|stop|installed) action=$1 ;;
        --port) port=$2; shift ;;
        --port=*) port=${1#--port=} ;;
        --out) out=$2; shift ;;
        --out=*) out=${1#--out=} ;;
        -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
    shift
done

pid_file=$CACHE_DIR/tmp/pids/api-test-server-$port.pid
server_log=/var/log/redmine/$INSTANCE/api-test-server-$port.log
url=http://127.0.0.1:$port

log() { echo "redmine-test-server: $*" >&2; }

in_redmine() {
    (cd "$REDMINE_DIR" && REDMINE_INSTANCE=$INSTANCE RAILS_ENV=production "$@")
}

package_installed() {
    dpkg-query -W -f='${Status}' redmine 2>/dev/null | grep -q "install ok installed"
}

apt_install() {
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends redmine redmine-sqlite ruby-webrick
}

install_redmine() {
    if ! package_installed; then
        if [ "$(id -u)" != 0 ]; then
            log "Redmine is not installed and installing it needs root"
            exit 1
        fi
        log "installing Debian's redmine package (SQLite)"
        # Without these answers the package asks which database to use and stops.
        debconf-set-selections <<'SEL'
redmine redmine/instances/default/database-type select sqlite3
redmine redmine/instances/default/dbconfig-install boolean true
SEL
        apt_log=$(mktemp)
        # Try with the package lists at hand first; refresh them only when that fails.
        if ! apt_install >"$apt_log" 2>&1 && ! { apt-get update && apt_install; } >>"$apt_log" 2>&1; then
            tail -n 30 "$apt_log" >&2
            log "apt-get install failed"
            exit 1
        fi
        rm -f "$apt_log"
    fi
    # Ruby 3 no longer bundles WEBrick; `rails server` needs it from the Gemfile.
    if [ ! -f "$REDMINE_DIR/Gemfile.local" ] || ! grep -q webrick "$REDMINE_DIR/Gemfile.local"; then
        echo 'gem "webrick"' >>"$REDMINE_DIR/Gemfile.local"
    fi
    # Rails serves requests on several threads, and SQLite answers "database is locked"
    # (a 500) when two of them write at once: a busy timeout does not help a read
    # transaction that turns into a write. One request at a time (Rack::Lock), as a
    # test server can afford, and a busy timeout for the Rails runner beside it.
    local db_config=/etc/redmine/$INSTANCE/database.yml
    if [ -w "$db_config" ] && ! grep -q '^ *timeout:' "$db_config"; then
        sed -i '/adapter: sqlite3/a\  timeout: 15000' "$db_config"
    fi
    local extra=$REDMINE_DIR/config/additional_environment.rb
    if [ -w "$REDMINE_DIR/config" ] && ! grep -qs 'allow_concurrency' "$extra"; then
        echo 'config.allow_concurrency = false  # one request at a time: SQLite takes one writer' >>"$extra"
    fi
    mkdir -p "$CACHE_DIR/tmp/pids"
    if [ ! -e "$REDMINE_DIR/tmp" ]; then
        ln -s "$CACHE_DIR/tmp" "$REDMINE_DIR/tmp"
    fi
}

# Enables the REST API and Markdown, loads Redmine's default trackers, statuses,
# roles and priorities if absent, and lets the admin use the API (Basic auth
# answers 403 until the forced password change is cleared). Prints the key.
configure_and_print_key() {
    in_redmine bundle exec rails runner '
        if Redmine::DefaultData::Loader.no_data?
          Redmine::DefaultData::Loader.load("en")
        end
        Setting.rest_api_enabled = "1"
        formats = Redmine::WikiFormatting.format_names
        Setting.text_formatting = formats.include?("common_mark") ? "common_mark" : "markdown"
        admin = User.find_by!(login: "admin")
        admin.must_change_passwd = false
        admin.save!(validate: false)
        puts "API_KEY=#{admin.api_key}"
    ' | sed -n 's/^API_KEY=//p' | tail -n 1
}

# What the tests need that Redmine's REST API can't create: an issue custom field of
# the list format (enabled per project: test projects enable it when they are made),
# a date custom field of versions named "Start date" (Redmine versions have no start
# of their own; sites that plan sprints add one), and a public saved query for every
# project (issues of any status whose subject contains "Native"). Idempotent.
add_test_fixtures() {
    in_redmine bundle exec rails runner '
        size = IssueCustomField.find_or_initialize_by(name: "Size")
        if size.new_record?
          size.field_format = "list"
          size.possible_values = ["Small", "Medium", "Large"]
          size.is_for_all = false
          size.is_filter = true
          size.tracker_ids = Tracker.pluck(:id)
          size.save!
        end
        start = VersionCustomField.find_or_initialize_by(name: "Start date")
        if start.new_record?
          start.field_format = "date"
          start.save!
        end
        query = IssueQuery.find_or_initialize_by(name: "Titles with Native", project_id: nil)
        query.user = User.find_by!(login: "admin")
        query.visibility = Query::VISIBILITY_PUBLIC
        query.filters = {
          "status_id" => {:operator => "*", :values => [""]},
          "subject" => {:operator => "~", :values => ["Native"]},
        }
        query.sort_criteria = [["id", "desc"]]
        query.save!
    ' >/dev/null
}

# True when the fixtures above exist (read through the API, so a reset database is noticed).
has_test_fixtures() {
    local fields queries
    fields=$(curl -fsS --max-time 10 "$url/custom_fields.json" -H "X-Redmine-API-Key: $1") || return 1
    queries=$(curl -fsS --max-time 10 "$url/queries.json?limit=100" -H "X-Redmine-API-Key: $1") || return 1
    grep -q '"name":"Size"' <<<"$fields" && grep -q '"name":"Start date"' <<<"$fields" &&
        grep -q '"name":"Titles with Native"' <<<"$queries"
}

server_pid() {
    if [ -f "$pid_file" ]; then
        local pid
        pid=$(cat "$pid_file")
        if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
            echo "$pid"
            return 0
        fi
    fi
    return 1
}

key_works() {
    curl -fsS -o /dev/null --max-time 10 "$url/users/current.json" -H "X-Redmine-API-Key: $1"
}

server_starter=""

start_server() {
    if server_pid >/dev/null; then
        return 0
    fi
    rm -f "$pid_file"
    mkdir -p "$(dirname "$server_log")"
    log "starting Redmine on $url"
    # setsid: the server outlives this script and does not get the caller's signals.
    in_redmine setsid bundle exec rails server -e production -b 127.0.0.1 -p "$port" -P "$pid_file" \
        >"$server_log" 2>&1 </dev/null &
    server_starter=$!
}

wait_until_answering() {
    for _ in $(seq 1 240); do
        # Any HTTP answer will do: the point is that Rails has booted.
        if [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$url/" 2>/dev/null)" != 000 ]; then
            return 0
        fi
        if [ -n "$server_starter" ] && ! kill -0 "$server_starter" 2>/dev/null; then
            log "Redmine exited while starting on $url; its log says:"
            tail -n 30 "$server_log" >&2 || true
            exit 1
        fi
        sleep 0.25
    done
    log "Redmine did not answer on $url within 60 seconds; its log says:"
    tail -n 30 "$server_log" >&2 || true
    exit 1
}

case "$action" in
    installed)
        if package_installed; then exit 0; else exit 1; fi
        ;;
    stop)
        if pid=$(server_pid); then
            kill "$pid"
            for _ in $(seq 1 40); do
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.25
            done
            rm -f "$pid_file"
            log "stopped Redmine on $url"
        else
            log "no Redmine running on $url"
        fi
        exit 0
        ;;
esac

install_redmine
if [ -f "$CONFIGURED_MARK" ]; then
    key=$(cat "$CONFIGURED_MARK")
else
    key=""
fi
if [ -z "$key" ]; then
    key=$(configure_and_print_key)
fi
start_server
wait_until_answering
if ! key_works "$key" 2>/dev/null; then
    # The database was reset or set up by hand since the mark was written.
    key=$(configure_and_print_key)
    key_works "$key" || { log "Redmine on $url refuses the admin's API key"; exit 1; }
fi
if [ -z "$key" ]; then
    log "could not configure Redmine for API use"
    exit 1
fi
(umask 077 && echo "$key" >"$CONFIGURED_MARK")
if ! has_test_fixtures "$key"; then
    log "adding the custom fields and the saved query the tests use"
    add_test_fixtures
    has_test_fixtures "$key" || { log "could not add the test fixtures to Redmine on $url"; exit 1; }
fi

result="REDMINE_URL=$url
REDMINE_API_KEY=$key"
if [ -n "$out" ]; then
    (umask 077 && echo "$result" >"$out")
    log "Redmine answers on $url; URL and API key written to $out"
else
    echo "$result"
fi
