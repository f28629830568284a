# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_anchorage_global_optspecs
    string join \n data-dir= database= now= log= log-format= server= token= server-ca= h/help V/version
end

function __fish_anchorage_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_anchorage_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_anchorage_using_subcommand
    set -l cmd (__fish_anchorage_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c anchorage -n "__fish_anchorage_needs_command" -l data-dir -d 'The data directory (database, keys, rsync tree, TAL)' -r -F
complete -c anchorage -n "__fish_anchorage_needs_command" -l database -d 'The store: a PostgreSQL connection string (`postgres://USER@HOST/DB` or `host=… dbname=…`) instead of the SQLite file in the data directory. `init` records it in DIR/database.url for later commands' -r
complete -c anchorage -n "__fish_anchorage_needs_command" -l now -d 'Pretend the current time is this RFC 3339 time (for rehearsing reissue schedules on a copy of a data dir; never in production)' -r
complete -c anchorage -n "__fish_anchorage_needs_command" -l log -d 'Log filter, e.g. `info` or `anchorage=debug` (also RUST_LOG)' -r
complete -c anchorage -n "__fish_anchorage_needs_command" -l log-format -d 'Log lines as text, or as JSON objects one per line (timestamp, level, target, fields) for a log collector' -r -f -a "text\t'Human-readable lines'
json\t'One JSON object per line'"
complete -c anchorage -n "__fish_anchorage_needs_command" -l server -d 'Run `ca` and `roa` commands against this `serve` admin API (https://HOST:PORT) instead of a local data directory' -r
complete -c anchorage -n "__fish_anchorage_needs_command" -l token -d 'The API token for --server' -r
complete -c anchorage -n "__fish_anchorage_needs_command" -l server-ca -d 'Also trust this PEM certificate for --server (e.g. DIR/tls/api.crt)' -r -F
complete -c anchorage -n "__fish_anchorage_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c anchorage -n "__fish_anchorage_needs_command" -s V -l version -d 'Print version'
complete -c anchorage -n "__fish_anchorage_needs_command" -f -a "init" -d 'Create the database, trust anchor, TAL and online CA'
complete -c anchorage -n "__fish_anchorage_needs_command" -f -a "ca" -d 'Manage CAs'
complete -c anchorage -n "__fish_anchorage_needs_command" -f -a "roa" -d 'Manage ROAs'
complete -c anchorage -n "__fish_anchorage_needs_command" -f -a "aspa" -d 'Manage ASPAs (draft-ietf-sidrops-aspa-profile): one per customer AS'
complete -c anchorage -n "__fish_anchorage_needs_command" -f -a "router-cert" -d 'BGPsec router certificates (RFC 8209): certify router keys of a CA'
complete -c anchorage -n "__fish_anchorage_needs_command" -f -a "ta" -d 'The trust anchor\'s key rollover (RFC 9691)'
complete -c anchorage -n "__fish_anchorage_needs_command" -f -a "token" -d 'Manage admin API tokens (locally, on the data directory)'
complete -c anchorage -n "__fish_anchorage_needs_command" -f -a "keys" -d 'The keys inventory, and encrypting software keys at rest'
complete -c anchorage -n "__fish_anchorage_needs_command" -f -a "bgp" -d 'BGP announcements for the admin API\'s RFC 9319 checks'
complete -c anchorage -n "__fish_anchorage_needs_command" -f -a "child" -d 'Delegated child CAs that run their own CA software (RFC 8183, RFC 6492)'
complete -c anchorage -n "__fish_anchorage_needs_command" -f -a "publisher" -d 'Publishers of the RFC 8181 publication server (RFC 8183, RFC 8181)'
complete -c anchorage -n "__fish_anchorage_needs_command" -f -a "parent" -d 'Remote parents of local CAs (this instance as RFC 6492 child)'
complete -c anchorage -n "__fish_anchorage_needs_command" -f -a "repository" -d 'The remote RFC 8181 repository this instance publishes at'
complete -c anchorage -n "__fish_anchorage_needs_command" -f -a "migrate" -d 'Move a data directory\'s SQLite store into an empty PostgreSQL database, unchanged; later commands and serve use PostgreSQL'
complete -c anchorage -n "__fish_anchorage_needs_command" -f -a "publish" -d 'Reissue whatever is due and write the rsync tree'
complete -c anchorage -n "__fish_anchorage_needs_command" -f -a "backup" -d 'Write the data directory\'s state to one file, while it runs'
complete -c anchorage -n "__fish_anchorage_needs_command" -f -a "restore" -d 'Make a new data directory (--data-dir) from a backup file and publish it, never reusing a manifest, CRL or RRDP number'
complete -c anchorage -n "__fish_anchorage_needs_command" -f -a "status" -d 'The data directory\'s health: publication, overdue and expired objects, serve\'s last self-validation; exit status 1 on a problem'
complete -c anchorage -n "__fish_anchorage_needs_command" -f -a "serve" -d 'Run the service: RRDP over HTTP(S), rsyncd, and the reissue scheduler'
complete -c anchorage -n "__fish_anchorage_needs_command" -f -a "rsync-readers" -d 'Beside an rsync daemon that serves DIR/rsync/current out of the publishing process\'s view (another container or PID namespace, another machine): report which trees it is inside, until stopped'
complete -c anchorage -n "__fish_anchorage_needs_command" -f -a "validate" -d 'Fetch and validate a repository from its TAL, as a relying party does'
complete -c anchorage -n "__fish_anchorage_needs_command" -f -a "bench" -d 'Measure issuance and publication against the cryptographic limit'
complete -c anchorage -n "__fish_anchorage_needs_command" -f -a "soak" -d 'Run serve under steady load (API, RTR, RRDP, rsync) with periodic SIGKILL, and report descriptors, memory, latency and lost changes'
complete -c anchorage -n "__fish_anchorage_needs_command" -f -a "rtr-bench-cache" -d 'The RTR cache side of `bench` (serves synthetic VRPs; internal)'
complete -c anchorage -n "__fish_anchorage_needs_command" -f -a "hsm-bench-sign" -d 'The PKCS#11 signing side of `bench` (internal)'
complete -c anchorage -n "__fish_anchorage_needs_command" -f -a "demo" -d 'Build, publish and validate a small RIR hierarchy in a temporary directory'
complete -c anchorage -n "__fish_anchorage_needs_command" -f -a "completions" -d 'Print the shell completion script for SHELL (bash, zsh, fish, elvish, powershell)'
complete -c anchorage -n "__fish_anchorage_needs_command" -f -a "manpages" -d 'Write the man pages, one per command, into DIR (for packaging)'
complete -c anchorage -n "__fish_anchorage_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c anchorage -n "__fish_anchorage_using_subcommand init" -l rsync-uri -d 'rsync://HOST/MODULE/ where the repository is served' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand init" -l rrdp-uri -d 'https://HOST/rrdp/ where RRDP will be served' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand init" -l ta-resources -d 'Resources of the trust anchor' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand init" -l online-handle -d 'Handle of the online CA under the trust anchor' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand init" -l next-update-hours -d 'Manifest and CRL nextUpdate, in hours' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand init" -l reissue-before-hours -d 'Reissue manifests and CRLs when fewer hours than this remain' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand init" -l reissue-jitter-minutes -d 'Shorten each manifest/CRL nextUpdate by a random amount below this, so CAs created together do not fall due together' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand init" -l data-dir -d 'The data directory (database, keys, rsync tree, TAL)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand init" -l database -d 'The store: a PostgreSQL connection string (`postgres://USER@HOST/DB` or `host=… dbname=…`) instead of the SQLite file in the data directory. `init` records it in DIR/database.url for later commands' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand init" -l now -d 'Pretend the current time is this RFC 3339 time (for rehearsing reissue schedules on a copy of a data dir; never in production)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand init" -l log -d 'Log filter, e.g. `info` or `anchorage=debug` (also RUST_LOG)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand init" -l log-format -d 'Log lines as text, or as JSON objects one per line (timestamp, level, target, fields) for a log collector' -r -f -a "text\t'Human-readable lines'
json\t'One JSON object per line'"
complete -c anchorage -n "__fish_anchorage_using_subcommand init" -l server -d 'Run `ca` and `roa` commands against this `serve` admin API (https://HOST:PORT) instead of a local data directory' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand init" -l token -d 'The API token for --server' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand init" -l server-ca -d 'Also trust this PEM certificate for --server (e.g. DIR/tls/api.crt)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand init" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and not __fish_seen_subcommand_from create list show delete keyroll contact update help" -l data-dir -d 'The data directory (database, keys, rsync tree, TAL)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and not __fish_seen_subcommand_from create list show delete keyroll contact update help" -l database -d 'The store: a PostgreSQL connection string (`postgres://USER@HOST/DB` or `host=… dbname=…`) instead of the SQLite file in the data directory. `init` records it in DIR/database.url for later commands' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and not __fish_seen_subcommand_from create list show delete keyroll contact update help" -l now -d 'Pretend the current time is this RFC 3339 time (for rehearsing reissue schedules on a copy of a data dir; never in production)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and not __fish_seen_subcommand_from create list show delete keyroll contact update help" -l log -d 'Log filter, e.g. `info` or `anchorage=debug` (also RUST_LOG)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and not __fish_seen_subcommand_from create list show delete keyroll contact update help" -l log-format -d 'Log lines as text, or as JSON objects one per line (timestamp, level, target, fields) for a log collector' -r -f -a "text\t'Human-readable lines'
json\t'One JSON object per line'"
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and not __fish_seen_subcommand_from create list show delete keyroll contact update help" -l server -d 'Run `ca` and `roa` commands against this `serve` admin API (https://HOST:PORT) instead of a local data directory' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and not __fish_seen_subcommand_from create list show delete keyroll contact update help" -l token -d 'The API token for --server' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and not __fish_seen_subcommand_from create list show delete keyroll contact update help" -l server-ca -d 'Also trust this PEM certificate for --server (e.g. DIR/tls/api.crt)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and not __fish_seen_subcommand_from create list show delete keyroll contact update help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and not __fish_seen_subcommand_from create list show delete keyroll contact update help" -f -a "create" -d 'Create a hosted CA'
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and not __fish_seen_subcommand_from create list show delete keyroll contact update help" -f -a "list" -d 'List CAs'
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and not __fish_seen_subcommand_from create list show delete keyroll contact update help" -f -a "show" -d 'Show a CA'
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and not __fish_seen_subcommand_from create list show delete keyroll contact update help" -f -a "delete" -d 'Delete a CA without children: revoke its certificate, withdraw its objects'
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and not __fish_seen_subcommand_from create list show delete keyroll contact update help" -f -a "keyroll" -d 'Roll a CA\'s key (RFC 6489): start (a new key, certified, in its staging period), activate (every product reissued under the new key, the old one revoked), or show the keys and the next step. `serve` activates by itself once the staging period has passed'
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and not __fish_seen_subcommand_from create list show delete keyroll contact update help" -f -a "contact" -d 'Set, show or remove a CA\'s contact: a vCard published as its Ghostbusters record (RFC 6493), reissued with its other objects'
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and not __fish_seen_subcommand_from create list show delete keyroll contact update help" -f -a "update" -d 'Change a CA\'s resources: its parent reissues its certificate'
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and not __fish_seen_subcommand_from create list show delete keyroll contact update help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and __fish_seen_subcommand_from create" -l resources -d 'Its resources; must be within the parent\'s' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and __fish_seen_subcommand_from create" -l parent -d 'The parent CA (default: the online CA)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and __fish_seen_subcommand_from create" -l data-dir -d 'The data directory (database, keys, rsync tree, TAL)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and __fish_seen_subcommand_from create" -l database -d 'The store: a PostgreSQL connection string (`postgres://USER@HOST/DB` or `host=… dbname=…`) instead of the SQLite file in the data directory. `init` records it in DIR/database.url for later commands' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and __fish_seen_subcommand_from create" -l now -d 'Pretend the current time is this RFC 3339 time (for rehearsing reissue schedules on a copy of a data dir; never in production)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and __fish_seen_subcommand_from create" -l log -d 'Log filter, e.g. `info` or `anchorage=debug` (also RUST_LOG)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and __fish_seen_subcommand_from create" -l log-format -d 'Log lines as text, or as JSON objects one per line (timestamp, level, target, fields) for a log collector' -r -f -a "text\t'Human-readable lines'
json\t'One JSON object per line'"
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and __fish_seen_subcommand_from create" -l server -d 'Run `ca` and `roa` commands against this `serve` admin API (https://HOST:PORT) instead of a local data directory' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and __fish_seen_subcommand_from create" -l token -d 'The API token for --server' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and __fish_seen_subcommand_from create" -l server-ca -d 'Also trust this PEM certificate for --server (e.g. DIR/tls/api.crt)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and __fish_seen_subcommand_from list" -l format -d 'Output format' -r -f -a "text\t'For people'
json\t'For scripts'"
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and __fish_seen_subcommand_from list" -l data-dir -d 'The data directory (database, keys, rsync tree, TAL)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and __fish_seen_subcommand_from list" -l database -d 'The store: a PostgreSQL connection string (`postgres://USER@HOST/DB` or `host=… dbname=…`) instead of the SQLite file in the data directory. `init` records it in DIR/database.url for later commands' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and __fish_seen_subcommand_from list" -l now -d 'Pretend the current time is this RFC 3339 time (for rehearsing reissue schedules on a copy of a data dir; never in production)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and __fish_seen_subcommand_from list" -l log -d 'Log filter, e.g. `info` or `anchorage=debug` (also RUST_LOG)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and __fish_seen_subcommand_from list" -l log-format -d 'Log lines as text, or as JSON objects one per line (timestamp, level, target, fields) for a log collector' -r -f -a "text\t'Human-readable lines'
json\t'One JSON object per line'"
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and __fish_seen_subcommand_from list" -l server -d 'Run `ca` and `roa` commands against this `serve` admin API (https://HOST:PORT) instead of a local data directory' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and __fish_seen_subcommand_from list" -l token -d 'The API token for --server' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and __fish_seen_subcommand_from list" -l server-ca -d 'Also trust this PEM certificate for --server (e.g. DIR/tls/api.crt)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and __fish_seen_subcommand_from show" -l format -d 'Output format' -r -f -a "text\t'For people'
json\t'For scripts'"
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and __fish_seen_subcommand_from show" -l data-dir -d 'The data directory (database, keys, rsync tree, TAL)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and __fish_seen_subcommand_from show" -l database -d 'The store: a PostgreSQL connection string (`postgres://USER@HOST/DB` or `host=… dbname=…`) instead of the SQLite file in the data directory. `init` records it in DIR/database.url for later commands' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and __fish_seen_subcommand_from show" -l now -d 'Pretend the current time is this RFC 3339 time (for rehearsing reissue schedules on a copy of a data dir; never in production)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and __fish_seen_subcommand_from show" -l log -d 'Log filter, e.g. `info` or `anchorage=debug` (also RUST_LOG)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and __fish_seen_subcommand_from show" -l log-format -d 'Log lines as text, or as JSON objects one per line (timestamp, level, target, fields) for a log collector' -r -f -a "text\t'Human-readable lines'
json\t'One JSON object per line'"
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and __fish_seen_subcommand_from show" -l server -d 'Run `ca` and `roa` commands against this `serve` admin API (https://HOST:PORT) instead of a local data directory' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and __fish_seen_subcommand_from show" -l token -d 'The API token for --server' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and __fish_seen_subcommand_from show" -l server-ca -d 'Also trust this PEM certificate for --server (e.g. DIR/tls/api.crt)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and __fish_seen_subcommand_from delete" -l data-dir -d 'The data directory (database, keys, rsync tree, TAL)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and __fish_seen_subcommand_from delete" -l database -d 'The store: a PostgreSQL connection string (`postgres://USER@HOST/DB` or `host=… dbname=…`) instead of the SQLite file in the data directory. `init` records it in DIR/database.url for later commands' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and __fish_seen_subcommand_from delete" -l now -d 'Pretend the current time is this RFC 3339 time (for rehearsing reissue schedules on a copy of a data dir; never in production)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and __fish_seen_subcommand_from delete" -l log -d 'Log filter, e.g. `info` or `anchorage=debug` (also RUST_LOG)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and __fish_seen_subcommand_from delete" -l log-format -d 'Log lines as text, or as JSON objects one per line (timestamp, level, target, fields) for a log collector' -r -f -a "text\t'Human-readable lines'
json\t'One JSON object per line'"
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and __fish_seen_subcommand_from delete" -l server -d 'Run `ca` and `roa` commands against this `serve` admin API (https://HOST:PORT) instead of a local data directory' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and __fish_seen_subcommand_from delete" -l token -d 'The API token for --server' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and __fish_seen_subcommand_from delete" -l server-ca -d 'Also trust this PEM certificate for --server (e.g. DIR/tls/api.crt)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and __fish_seen_subcommand_from delete" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and __fish_seen_subcommand_from keyroll" -l staging-hours -d 'With --start: the staging period in hours (default: 24, or `keyroll_staging_hours` of serve\'s configuration)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and __fish_seen_subcommand_from keyroll" -l format -d 'Output format' -r -f -a "text\t'For people'
json\t'For scripts'"
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and __fish_seen_subcommand_from keyroll" -l data-dir -d 'The data directory (database, keys, rsync tree, TAL)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and __fish_seen_subcommand_from keyroll" -l database -d 'The store: a PostgreSQL connection string (`postgres://USER@HOST/DB` or `host=… dbname=…`) instead of the SQLite file in the data directory. `init` records it in DIR/database.url for later commands' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and __fish_seen_subcommand_from keyroll" -l now -d 'Pretend the current time is this RFC 3339 time (for rehearsing reissue schedules on a copy of a data dir; never in production)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and __fish_seen_subcommand_from keyroll" -l log -d 'Log filter, e.g. `info` or `anchorage=debug` (also RUST_LOG)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and __fish_seen_subcommand_from keyroll" -l log-format -d 'Log lines as text, or as JSON objects one per line (timestamp, level, target, fields) for a log collector' -r -f -a "text\t'Human-readable lines'
json\t'One JSON object per line'"
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and __fish_seen_subcommand_from keyroll" -l server -d 'Run `ca` and `roa` commands against this `serve` admin API (https://HOST:PORT) instead of a local data directory' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and __fish_seen_subcommand_from keyroll" -l token -d 'The API token for --server' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and __fish_seen_subcommand_from keyroll" -l server-ca -d 'Also trust this PEM certificate for --server (e.g. DIR/tls/api.crt)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and __fish_seen_subcommand_from keyroll" -l start -d 'Start a rollover: a new key, certified by the parent'
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and __fish_seen_subcommand_from keyroll" -l activate -d 'Activate the new key (after its staging period)'
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and __fish_seen_subcommand_from keyroll" -l cancel -d 'Cancel the rollover in its staging period: the new key revoked and destroyed'
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and __fish_seen_subcommand_from keyroll" -l status -d 'Show every key, its state and the next step'
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and __fish_seen_subcommand_from keyroll" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and __fish_seen_subcommand_from contact" -l vcard -d 'The contact: a vCard 4.0 with BEGIN, VERSION, FN, at least one of ADR, TEL and EMAIL, optionally ORG, and END (RFC 6493 §5); line ends are made CRLF. `-` reads standard input' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and __fish_seen_subcommand_from contact" -l data-dir -d 'The data directory (database, keys, rsync tree, TAL)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and __fish_seen_subcommand_from contact" -l database -d 'The store: a PostgreSQL connection string (`postgres://USER@HOST/DB` or `host=… dbname=…`) instead of the SQLite file in the data directory. `init` records it in DIR/database.url for later commands' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and __fish_seen_subcommand_from contact" -l now -d 'Pretend the current time is this RFC 3339 time (for rehearsing reissue schedules on a copy of a data dir; never in production)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and __fish_seen_subcommand_from contact" -l log -d 'Log filter, e.g. `info` or `anchorage=debug` (also RUST_LOG)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and __fish_seen_subcommand_from contact" -l log-format -d 'Log lines as text, or as JSON objects one per line (timestamp, level, target, fields) for a log collector' -r -f -a "text\t'Human-readable lines'
json\t'One JSON object per line'"
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and __fish_seen_subcommand_from contact" -l server -d 'Run `ca` and `roa` commands against this `serve` admin API (https://HOST:PORT) instead of a local data directory' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and __fish_seen_subcommand_from contact" -l token -d 'The API token for --server' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and __fish_seen_subcommand_from contact" -l server-ca -d 'Also trust this PEM certificate for --server (e.g. DIR/tls/api.crt)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and __fish_seen_subcommand_from contact" -l remove -d 'Remove the contact and withdraw its Ghostbusters record'
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and __fish_seen_subcommand_from contact" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and __fish_seen_subcommand_from update" -l resources -d 'The new resources; must be within the parent\'s and cover the CA\'s ROAs and children' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and __fish_seen_subcommand_from update" -l data-dir -d 'The data directory (database, keys, rsync tree, TAL)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and __fish_seen_subcommand_from update" -l database -d 'The store: a PostgreSQL connection string (`postgres://USER@HOST/DB` or `host=… dbname=…`) instead of the SQLite file in the data directory. `init` records it in DIR/database.url for later commands' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and __fish_seen_subcommand_from update" -l now -d 'Pretend the current time is this RFC 3339 time (for rehearsing reissue schedules on a copy of a data dir; never in production)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and __fish_seen_subcommand_from update" -l log -d 'Log filter, e.g. `info` or `anchorage=debug` (also RUST_LOG)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and __fish_seen_subcommand_from update" -l log-format -d 'Log lines as text, or as JSON objects one per line (timestamp, level, target, fields) for a log collector' -r -f -a "text\t'Human-readable lines'
json\t'One JSON object per line'"
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and __fish_seen_subcommand_from update" -l server -d 'Run `ca` and `roa` commands against this `serve` admin API (https://HOST:PORT) instead of a local data directory' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and __fish_seen_subcommand_from update" -l token -d 'The API token for --server' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and __fish_seen_subcommand_from update" -l server-ca -d 'Also trust this PEM certificate for --server (e.g. DIR/tls/api.crt)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and __fish_seen_subcommand_from update" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and __fish_seen_subcommand_from help" -f -a "create" -d 'Create a hosted CA'
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and __fish_seen_subcommand_from help" -f -a "list" -d 'List CAs'
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and __fish_seen_subcommand_from help" -f -a "show" -d 'Show a CA'
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and __fish_seen_subcommand_from help" -f -a "delete" -d 'Delete a CA without children: revoke its certificate, withdraw its objects'
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and __fish_seen_subcommand_from help" -f -a "keyroll" -d 'Roll a CA\'s key (RFC 6489): start (a new key, certified, in its staging period), activate (every product reissued under the new key, the old one revoked), or show the keys and the next step. `serve` activates by itself once the staging period has passed'
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and __fish_seen_subcommand_from help" -f -a "contact" -d 'Set, show or remove a CA\'s contact: a vCard published as its Ghostbusters record (RFC 6493), reissued with its other objects'
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and __fish_seen_subcommand_from help" -f -a "update" -d 'Change a CA\'s resources: its parent reissues its certificate'
complete -c anchorage -n "__fish_anchorage_using_subcommand ca; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c anchorage -n "__fish_anchorage_using_subcommand roa; and not __fish_seen_subcommand_from add remove import list help" -l data-dir -d 'The data directory (database, keys, rsync tree, TAL)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand roa; and not __fish_seen_subcommand_from add remove import list help" -l database -d 'The store: a PostgreSQL connection string (`postgres://USER@HOST/DB` or `host=… dbname=…`) instead of the SQLite file in the data directory. `init` records it in DIR/database.url for later commands' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand roa; and not __fish_seen_subcommand_from add remove import list help" -l now -d 'Pretend the current time is this RFC 3339 time (for rehearsing reissue schedules on a copy of a data dir; never in production)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand roa; and not __fish_seen_subcommand_from add remove import list help" -l log -d 'Log filter, e.g. `info` or `anchorage=debug` (also RUST_LOG)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand roa; and not __fish_seen_subcommand_from add remove import list help" -l log-format -d 'Log lines as text, or as JSON objects one per line (timestamp, level, target, fields) for a log collector' -r -f -a "text\t'Human-readable lines'
json\t'One JSON object per line'"
complete -c anchorage -n "__fish_anchorage_using_subcommand roa; and not __fish_seen_subcommand_from add remove import list help" -l server -d 'Run `ca` and `roa` commands against this `serve` admin API (https://HOST:PORT) instead of a local data directory' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand roa; and not __fish_seen_subcommand_from add remove import list help" -l token -d 'The API token for --server' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand roa; and not __fish_seen_subcommand_from add remove import list help" -l server-ca -d 'Also trust this PEM certificate for --server (e.g. DIR/tls/api.crt)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand roa; and not __fish_seen_subcommand_from add remove import list help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c anchorage -n "__fish_anchorage_using_subcommand roa; and not __fish_seen_subcommand_from add remove import list help" -f -a "add" -d 'Authorise an origin AS for a prefix (a no-op if present)'
complete -c anchorage -n "__fish_anchorage_using_subcommand roa; and not __fish_seen_subcommand_from add remove import list help" -f -a "remove" -d 'Remove an authorisation'
complete -c anchorage -n "__fish_anchorage_using_subcommand roa; and not __fish_seen_subcommand_from add remove import list help" -f -a "import" -d 'Import ROA payloads from a CSV file: rpki-client\'s or Routinator\'s VRP CSV (ASN,IP Prefix,Max Length,...), or ASN,prefix[,maxLength]. All or nothing: a bad line refuses the whole file'
complete -c anchorage -n "__fish_anchorage_using_subcommand roa; and not __fish_seen_subcommand_from add remove import list help" -f -a "list" -d 'List a CA\'s ROA payloads'
complete -c anchorage -n "__fish_anchorage_using_subcommand roa; and not __fish_seen_subcommand_from add remove import list help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c anchorage -n "__fish_anchorage_using_subcommand roa; and __fish_seen_subcommand_from add" -l asn -d 'Origin AS (64496 or AS64496)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand roa; and __fish_seen_subcommand_from add" -l prefix -d 'The prefix, e.g. 192.0.2.0/24 (with its length; IPv6 as RFC 5952 writes it)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand roa; and __fish_seen_subcommand_from add" -l max-length -d 'maxLength (default: the prefix length)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand roa; and __fish_seen_subcommand_from add" -l data-dir -d 'The data directory (database, keys, rsync tree, TAL)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand roa; and __fish_seen_subcommand_from add" -l database -d 'The store: a PostgreSQL connection string (`postgres://USER@HOST/DB` or `host=… dbname=…`) instead of the SQLite file in the data directory. `init` records it in DIR/database.url for later commands' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand roa; and __fish_seen_subcommand_from add" -l now -d 'Pretend the current time is this RFC 3339 time (for rehearsing reissue schedules on a copy of a data dir; never in production)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand roa; and __fish_seen_subcommand_from add" -l log -d 'Log filter, e.g. `info` or `anchorage=debug` (also RUST_LOG)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand roa; and __fish_seen_subcommand_from add" -l log-format -d 'Log lines as text, or as JSON objects one per line (timestamp, level, target, fields) for a log collector' -r -f -a "text\t'Human-readable lines'
json\t'One JSON object per line'"
complete -c anchorage -n "__fish_anchorage_using_subcommand roa; and __fish_seen_subcommand_from add" -l server -d 'Run `ca` and `roa` commands against this `serve` admin API (https://HOST:PORT) instead of a local data directory' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand roa; and __fish_seen_subcommand_from add" -l token -d 'The API token for --server' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand roa; and __fish_seen_subcommand_from add" -l server-ca -d 'Also trust this PEM certificate for --server (e.g. DIR/tls/api.crt)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand roa; and __fish_seen_subcommand_from add" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c anchorage -n "__fish_anchorage_using_subcommand roa; and __fish_seen_subcommand_from remove" -l asn -d 'Origin AS (64496 or AS64496)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand roa; and __fish_seen_subcommand_from remove" -l prefix -d 'The prefix, e.g. 192.0.2.0/24 (with its length; IPv6 as RFC 5952 writes it)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand roa; and __fish_seen_subcommand_from remove" -l max-length -d 'maxLength (default: the prefix length)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand roa; and __fish_seen_subcommand_from remove" -l data-dir -d 'The data directory (database, keys, rsync tree, TAL)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand roa; and __fish_seen_subcommand_from remove" -l database -d 'The store: a PostgreSQL connection string (`postgres://USER@HOST/DB` or `host=… dbname=…`) instead of the SQLite file in the data directory. `init` records it in DIR/database.url for later commands' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand roa; and __fish_seen_subcommand_from remove" -l now -d 'Pretend the current time is this RFC 3339 time (for rehearsing reissue schedules on a copy of a data dir; never in production)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand roa; and __fish_seen_subcommand_from remove" -l log -d 'Log filter, e.g. `info` or `anchorage=debug` (also RUST_LOG)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand roa; and __fish_seen_subcommand_from remove" -l log-format -d 'Log lines as text, or as JSON objects one per line (timestamp, level, target, fields) for a log collector' -r -f -a "text\t'Human-readable lines'
json\t'One JSON object per line'"
complete -c anchorage -n "__fish_anchorage_using_subcommand roa; and __fish_seen_subcommand_from remove" -l server -d 'Run `ca` and `roa` commands against this `serve` admin API (https://HOST:PORT) instead of a local data directory' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand roa; and __fish_seen_subcommand_from remove" -l token -d 'The API token for --server' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand roa; and __fish_seen_subcommand_from remove" -l server-ca -d 'Also trust this PEM certificate for --server (e.g. DIR/tls/api.crt)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand roa; and __fish_seen_subcommand_from remove" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c anchorage -n "__fish_anchorage_using_subcommand roa; and __fish_seen_subcommand_from import" -l file -d 'The CSV file' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand roa; and __fish_seen_subcommand_from import" -l data-dir -d 'The data directory (database, keys, rsync tree, TAL)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand roa; and __fish_seen_subcommand_from import" -l database -d 'The store: a PostgreSQL connection string (`postgres://USER@HOST/DB` or `host=… dbname=…`) instead of the SQLite file in the data directory. `init` records it in DIR/database.url for later commands' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand roa; and __fish_seen_subcommand_from import" -l now -d 'Pretend the current time is this RFC 3339 time (for rehearsing reissue schedules on a copy of a data dir; never in production)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand roa; and __fish_seen_subcommand_from import" -l log -d 'Log filter, e.g. `info` or `anchorage=debug` (also RUST_LOG)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand roa; and __fish_seen_subcommand_from import" -l log-format -d 'Log lines as text, or as JSON objects one per line (timestamp, level, target, fields) for a log collector' -r -f -a "text\t'Human-readable lines'
json\t'One JSON object per line'"
complete -c anchorage -n "__fish_anchorage_using_subcommand roa; and __fish_seen_subcommand_from import" -l server -d 'Run `ca` and `roa` commands against this `serve` admin API (https://HOST:PORT) instead of a local data directory' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand roa; and __fish_seen_subcommand_from import" -l token -d 'The API token for --server' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand roa; and __fish_seen_subcommand_from import" -l server-ca -d 'Also trust this PEM certificate for --server (e.g. DIR/tls/api.crt)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand roa; and __fish_seen_subcommand_from import" -l dry-run -d 'Show what would change and the RFC 9319 warnings; change nothing'
complete -c anchorage -n "__fish_anchorage_using_subcommand roa; and __fish_seen_subcommand_from import" -l replace -d 'Make the file the CA\'s whole ROA list: payloads not in it are removed (by default they stay)'
complete -c anchorage -n "__fish_anchorage_using_subcommand roa; and __fish_seen_subcommand_from import" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c anchorage -n "__fish_anchorage_using_subcommand roa; and __fish_seen_subcommand_from list" -l format -d 'Output format' -r -f -a "text\t'For people'
json\t'For scripts'"
complete -c anchorage -n "__fish_anchorage_using_subcommand roa; and __fish_seen_subcommand_from list" -l data-dir -d 'The data directory (database, keys, rsync tree, TAL)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand roa; and __fish_seen_subcommand_from list" -l database -d 'The store: a PostgreSQL connection string (`postgres://USER@HOST/DB` or `host=… dbname=…`) instead of the SQLite file in the data directory. `init` records it in DIR/database.url for later commands' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand roa; and __fish_seen_subcommand_from list" -l now -d 'Pretend the current time is this RFC 3339 time (for rehearsing reissue schedules on a copy of a data dir; never in production)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand roa; and __fish_seen_subcommand_from list" -l log -d 'Log filter, e.g. `info` or `anchorage=debug` (also RUST_LOG)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand roa; and __fish_seen_subcommand_from list" -l log-format -d 'Log lines as text, or as JSON objects one per line (timestamp, level, target, fields) for a log collector' -r -f -a "text\t'Human-readable lines'
json\t'One JSON object per line'"
complete -c anchorage -n "__fish_anchorage_using_subcommand roa; and __fish_seen_subcommand_from list" -l server -d 'Run `ca` and `roa` commands against this `serve` admin API (https://HOST:PORT) instead of a local data directory' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand roa; and __fish_seen_subcommand_from list" -l token -d 'The API token for --server' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand roa; and __fish_seen_subcommand_from list" -l server-ca -d 'Also trust this PEM certificate for --server (e.g. DIR/tls/api.crt)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand roa; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c anchorage -n "__fish_anchorage_using_subcommand roa; and __fish_seen_subcommand_from help" -f -a "add" -d 'Authorise an origin AS for a prefix (a no-op if present)'
complete -c anchorage -n "__fish_anchorage_using_subcommand roa; and __fish_seen_subcommand_from help" -f -a "remove" -d 'Remove an authorisation'
complete -c anchorage -n "__fish_anchorage_using_subcommand roa; and __fish_seen_subcommand_from help" -f -a "import" -d 'Import ROA payloads from a CSV file: rpki-client\'s or Routinator\'s VRP CSV (ASN,IP Prefix,Max Length,...), or ASN,prefix[,maxLength]. All or nothing: a bad line refuses the whole file'
complete -c anchorage -n "__fish_anchorage_using_subcommand roa; and __fish_seen_subcommand_from help" -f -a "list" -d 'List a CA\'s ROA payloads'
complete -c anchorage -n "__fish_anchorage_using_subcommand roa; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c anchorage -n "__fish_anchorage_using_subcommand aspa; and not __fish_seen_subcommand_from add remove list help" -l data-dir -d 'The data directory (database, keys, rsync tree, TAL)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand aspa; and not __fish_seen_subcommand_from add remove list help" -l database -d 'The store: a PostgreSQL connection string (`postgres://USER@HOST/DB` or `host=… dbname=…`) instead of the SQLite file in the data directory. `init` records it in DIR/database.url for later commands' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand aspa; and not __fish_seen_subcommand_from add remove list help" -l now -d 'Pretend the current time is this RFC 3339 time (for rehearsing reissue schedules on a copy of a data dir; never in production)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand aspa; and not __fish_seen_subcommand_from add remove list help" -l log -d 'Log filter, e.g. `info` or `anchorage=debug` (also RUST_LOG)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand aspa; and not __fish_seen_subcommand_from add remove list help" -l log-format -d 'Log lines as text, or as JSON objects one per line (timestamp, level, target, fields) for a log collector' -r -f -a "text\t'Human-readable lines'
json\t'One JSON object per line'"
complete -c anchorage -n "__fish_anchorage_using_subcommand aspa; and not __fish_seen_subcommand_from add remove list help" -l server -d 'Run `ca` and `roa` commands against this `serve` admin API (https://HOST:PORT) instead of a local data directory' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand aspa; and not __fish_seen_subcommand_from add remove list help" -l token -d 'The API token for --server' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand aspa; and not __fish_seen_subcommand_from add remove list help" -l server-ca -d 'Also trust this PEM certificate for --server (e.g. DIR/tls/api.crt)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand aspa; and not __fish_seen_subcommand_from add remove list help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c anchorage -n "__fish_anchorage_using_subcommand aspa; and not __fish_seen_subcommand_from add remove list help" -f -a "add" -d 'Set the ASPA of a customer AS: its provider ASes, replacing any listed before (one ASPA per customer AS)'
complete -c anchorage -n "__fish_anchorage_using_subcommand aspa; and not __fish_seen_subcommand_from add remove list help" -f -a "remove" -d 'Remove the ASPA of a customer AS'
complete -c anchorage -n "__fish_anchorage_using_subcommand aspa; and not __fish_seen_subcommand_from add remove list help" -f -a "list" -d 'List a CA\'s ASPAs'
complete -c anchorage -n "__fish_anchorage_using_subcommand aspa; and not __fish_seen_subcommand_from add remove list help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c anchorage -n "__fish_anchorage_using_subcommand aspa; and __fish_seen_subcommand_from add" -l customer-as -d 'The customer AS (64496 or AS64496); the CA must hold it' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand aspa; and __fish_seen_subcommand_from add" -l providers -d 'The provider ASes, e.g. "AS64500, AS64501"; "" for none (the ASPA then lists AS0: no transit provider)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand aspa; and __fish_seen_subcommand_from add" -l data-dir -d 'The data directory (database, keys, rsync tree, TAL)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand aspa; and __fish_seen_subcommand_from add" -l database -d 'The store: a PostgreSQL connection string (`postgres://USER@HOST/DB` or `host=… dbname=…`) instead of the SQLite file in the data directory. `init` records it in DIR/database.url for later commands' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand aspa; and __fish_seen_subcommand_from add" -l now -d 'Pretend the current time is this RFC 3339 time (for rehearsing reissue schedules on a copy of a data dir; never in production)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand aspa; and __fish_seen_subcommand_from add" -l log -d 'Log filter, e.g. `info` or `anchorage=debug` (also RUST_LOG)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand aspa; and __fish_seen_subcommand_from add" -l log-format -d 'Log lines as text, or as JSON objects one per line (timestamp, level, target, fields) for a log collector' -r -f -a "text\t'Human-readable lines'
json\t'One JSON object per line'"
complete -c anchorage -n "__fish_anchorage_using_subcommand aspa; and __fish_seen_subcommand_from add" -l server -d 'Run `ca` and `roa` commands against this `serve` admin API (https://HOST:PORT) instead of a local data directory' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand aspa; and __fish_seen_subcommand_from add" -l token -d 'The API token for --server' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand aspa; and __fish_seen_subcommand_from add" -l server-ca -d 'Also trust this PEM certificate for --server (e.g. DIR/tls/api.crt)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand aspa; and __fish_seen_subcommand_from add" -l dry-run -d 'Show what would change and the warnings; change nothing'
complete -c anchorage -n "__fish_anchorage_using_subcommand aspa; and __fish_seen_subcommand_from add" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c anchorage -n "__fish_anchorage_using_subcommand aspa; and __fish_seen_subcommand_from remove" -l customer-as -d 'The customer AS' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand aspa; and __fish_seen_subcommand_from remove" -l data-dir -d 'The data directory (database, keys, rsync tree, TAL)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand aspa; and __fish_seen_subcommand_from remove" -l database -d 'The store: a PostgreSQL connection string (`postgres://USER@HOST/DB` or `host=… dbname=…`) instead of the SQLite file in the data directory. `init` records it in DIR/database.url for later commands' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand aspa; and __fish_seen_subcommand_from remove" -l now -d 'Pretend the current time is this RFC 3339 time (for rehearsing reissue schedules on a copy of a data dir; never in production)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand aspa; and __fish_seen_subcommand_from remove" -l log -d 'Log filter, e.g. `info` or `anchorage=debug` (also RUST_LOG)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand aspa; and __fish_seen_subcommand_from remove" -l log-format -d 'Log lines as text, or as JSON objects one per line (timestamp, level, target, fields) for a log collector' -r -f -a "text\t'Human-readable lines'
json\t'One JSON object per line'"
complete -c anchorage -n "__fish_anchorage_using_subcommand aspa; and __fish_seen_subcommand_from remove" -l server -d 'Run `ca` and `roa` commands against this `serve` admin API (https://HOST:PORT) instead of a local data directory' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand aspa; and __fish_seen_subcommand_from remove" -l token -d 'The API token for --server' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand aspa; and __fish_seen_subcommand_from remove" -l server-ca -d 'Also trust this PEM certificate for --server (e.g. DIR/tls/api.crt)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand aspa; and __fish_seen_subcommand_from remove" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c anchorage -n "__fish_anchorage_using_subcommand aspa; and __fish_seen_subcommand_from list" -l format -d 'Output format' -r -f -a "text\t'For people'
json\t'For scripts'"
complete -c anchorage -n "__fish_anchorage_using_subcommand aspa; and __fish_seen_subcommand_from list" -l data-dir -d 'The data directory (database, keys, rsync tree, TAL)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand aspa; and __fish_seen_subcommand_from list" -l database -d 'The store: a PostgreSQL connection string (`postgres://USER@HOST/DB` or `host=… dbname=…`) instead of the SQLite file in the data directory. `init` records it in DIR/database.url for later commands' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand aspa; and __fish_seen_subcommand_from list" -l now -d 'Pretend the current time is this RFC 3339 time (for rehearsing reissue schedules on a copy of a data dir; never in production)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand aspa; and __fish_seen_subcommand_from list" -l log -d 'Log filter, e.g. `info` or `anchorage=debug` (also RUST_LOG)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand aspa; and __fish_seen_subcommand_from list" -l log-format -d 'Log lines as text, or as JSON objects one per line (timestamp, level, target, fields) for a log collector' -r -f -a "text\t'Human-readable lines'
json\t'One JSON object per line'"
complete -c anchorage -n "__fish_anchorage_using_subcommand aspa; and __fish_seen_subcommand_from list" -l server -d 'Run `ca` and `roa` commands against this `serve` admin API (https://HOST:PORT) instead of a local data directory' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand aspa; and __fish_seen_subcommand_from list" -l token -d 'The API token for --server' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand aspa; and __fish_seen_subcommand_from list" -l server-ca -d 'Also trust this PEM certificate for --server (e.g. DIR/tls/api.crt)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand aspa; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c anchorage -n "__fish_anchorage_using_subcommand aspa; and __fish_seen_subcommand_from help" -f -a "add" -d 'Set the ASPA of a customer AS: its provider ASes, replacing any listed before (one ASPA per customer AS)'
complete -c anchorage -n "__fish_anchorage_using_subcommand aspa; and __fish_seen_subcommand_from help" -f -a "remove" -d 'Remove the ASPA of a customer AS'
complete -c anchorage -n "__fish_anchorage_using_subcommand aspa; and __fish_seen_subcommand_from help" -f -a "list" -d 'List a CA\'s ASPAs'
complete -c anchorage -n "__fish_anchorage_using_subcommand aspa; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c anchorage -n "__fish_anchorage_using_subcommand router-cert; and not __fish_seen_subcommand_from add revoke list help" -l data-dir -d 'The data directory (database, keys, rsync tree, TAL)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand router-cert; and not __fish_seen_subcommand_from add revoke list help" -l database -d 'The store: a PostgreSQL connection string (`postgres://USER@HOST/DB` or `host=… dbname=…`) instead of the SQLite file in the data directory. `init` records it in DIR/database.url for later commands' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand router-cert; and not __fish_seen_subcommand_from add revoke list help" -l now -d 'Pretend the current time is this RFC 3339 time (for rehearsing reissue schedules on a copy of a data dir; never in production)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand router-cert; and not __fish_seen_subcommand_from add revoke list help" -l log -d 'Log filter, e.g. `info` or `anchorage=debug` (also RUST_LOG)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand router-cert; and not __fish_seen_subcommand_from add revoke list help" -l log-format -d 'Log lines as text, or as JSON objects one per line (timestamp, level, target, fields) for a log collector' -r -f -a "text\t'Human-readable lines'
json\t'One JSON object per line'"
complete -c anchorage -n "__fish_anchorage_using_subcommand router-cert; and not __fish_seen_subcommand_from add revoke list help" -l server -d 'Run `ca` and `roa` commands against this `serve` admin API (https://HOST:PORT) instead of a local data directory' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand router-cert; and not __fish_seen_subcommand_from add revoke list help" -l token -d 'The API token for --server' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand router-cert; and not __fish_seen_subcommand_from add revoke list help" -l server-ca -d 'Also trust this PEM certificate for --server (e.g. DIR/tls/api.crt)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand router-cert; and not __fish_seen_subcommand_from add revoke list help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c anchorage -n "__fish_anchorage_using_subcommand router-cert; and not __fish_seen_subcommand_from add revoke list help" -f -a "add" -d 'Certify a router\'s key for an AS the CA holds, from the router\'s PKCS#10 request (PEM or DER, an ECDSA P-256 key signed with it)'
complete -c anchorage -n "__fish_anchorage_using_subcommand router-cert; and not __fish_seen_subcommand_from add revoke list help" -f -a "revoke" -d 'Revoke and withdraw a router certificate'
complete -c anchorage -n "__fish_anchorage_using_subcommand router-cert; and not __fish_seen_subcommand_from add revoke list help" -f -a "list" -d 'List a CA\'s router certificates'
complete -c anchorage -n "__fish_anchorage_using_subcommand router-cert; and not __fish_seen_subcommand_from add revoke list help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c anchorage -n "__fish_anchorage_using_subcommand router-cert; and __fish_seen_subcommand_from add" -l asn -d 'The AS the router speaks for (64496 or AS64496)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand router-cert; and __fish_seen_subcommand_from add" -l csr -d 'The certificate request file' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand router-cert; and __fish_seen_subcommand_from add" -l data-dir -d 'The data directory (database, keys, rsync tree, TAL)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand router-cert; and __fish_seen_subcommand_from add" -l database -d 'The store: a PostgreSQL connection string (`postgres://USER@HOST/DB` or `host=… dbname=…`) instead of the SQLite file in the data directory. `init` records it in DIR/database.url for later commands' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand router-cert; and __fish_seen_subcommand_from add" -l now -d 'Pretend the current time is this RFC 3339 time (for rehearsing reissue schedules on a copy of a data dir; never in production)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand router-cert; and __fish_seen_subcommand_from add" -l log -d 'Log filter, e.g. `info` or `anchorage=debug` (also RUST_LOG)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand router-cert; and __fish_seen_subcommand_from add" -l log-format -d 'Log lines as text, or as JSON objects one per line (timestamp, level, target, fields) for a log collector' -r -f -a "text\t'Human-readable lines'
json\t'One JSON object per line'"
complete -c anchorage -n "__fish_anchorage_using_subcommand router-cert; and __fish_seen_subcommand_from add" -l server -d 'Run `ca` and `roa` commands against this `serve` admin API (https://HOST:PORT) instead of a local data directory' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand router-cert; and __fish_seen_subcommand_from add" -l token -d 'The API token for --server' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand router-cert; and __fish_seen_subcommand_from add" -l server-ca -d 'Also trust this PEM certificate for --server (e.g. DIR/tls/api.crt)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand router-cert; and __fish_seen_subcommand_from add" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c anchorage -n "__fish_anchorage_using_subcommand router-cert; and __fish_seen_subcommand_from revoke" -l asn -d 'The AS it was certified for' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand router-cert; and __fish_seen_subcommand_from revoke" -l ski -d 'The router key\'s SKI (hex, as `router-cert list` shows it)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand router-cert; and __fish_seen_subcommand_from revoke" -l data-dir -d 'The data directory (database, keys, rsync tree, TAL)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand router-cert; and __fish_seen_subcommand_from revoke" -l database -d 'The store: a PostgreSQL connection string (`postgres://USER@HOST/DB` or `host=… dbname=…`) instead of the SQLite file in the data directory. `init` records it in DIR/database.url for later commands' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand router-cert; and __fish_seen_subcommand_from revoke" -l now -d 'Pretend the current time is this RFC 3339 time (for rehearsing reissue schedules on a copy of a data dir; never in production)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand router-cert; and __fish_seen_subcommand_from revoke" -l log -d 'Log filter, e.g. `info` or `anchorage=debug` (also RUST_LOG)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand router-cert; and __fish_seen_subcommand_from revoke" -l log-format -d 'Log lines as text, or as JSON objects one per line (timestamp, level, target, fields) for a log collector' -r -f -a "text\t'Human-readable lines'
json\t'One JSON object per line'"
complete -c anchorage -n "__fish_anchorage_using_subcommand router-cert; and __fish_seen_subcommand_from revoke" -l server -d 'Run `ca` and `roa` commands against this `serve` admin API (https://HOST:PORT) instead of a local data directory' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand router-cert; and __fish_seen_subcommand_from revoke" -l token -d 'The API token for --server' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand router-cert; and __fish_seen_subcommand_from revoke" -l server-ca -d 'Also trust this PEM certificate for --server (e.g. DIR/tls/api.crt)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand router-cert; and __fish_seen_subcommand_from revoke" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c anchorage -n "__fish_anchorage_using_subcommand router-cert; and __fish_seen_subcommand_from list" -l format -d 'Output format' -r -f -a "text\t'For people'
json\t'For scripts'"
complete -c anchorage -n "__fish_anchorage_using_subcommand router-cert; and __fish_seen_subcommand_from list" -l data-dir -d 'The data directory (database, keys, rsync tree, TAL)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand router-cert; and __fish_seen_subcommand_from list" -l database -d 'The store: a PostgreSQL connection string (`postgres://USER@HOST/DB` or `host=… dbname=…`) instead of the SQLite file in the data directory. `init` records it in DIR/database.url for later commands' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand router-cert; and __fish_seen_subcommand_from list" -l now -d 'Pretend the current time is this RFC 3339 time (for rehearsing reissue schedules on a copy of a data dir; never in production)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand router-cert; and __fish_seen_subcommand_from list" -l log -d 'Log filter, e.g. `info` or `anchorage=debug` (also RUST_LOG)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand router-cert; and __fish_seen_subcommand_from list" -l log-format -d 'Log lines as text, or as JSON objects one per line (timestamp, level, target, fields) for a log collector' -r -f -a "text\t'Human-readable lines'
json\t'One JSON object per line'"
complete -c anchorage -n "__fish_anchorage_using_subcommand router-cert; and __fish_seen_subcommand_from list" -l server -d 'Run `ca` and `roa` commands against this `serve` admin API (https://HOST:PORT) instead of a local data directory' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand router-cert; and __fish_seen_subcommand_from list" -l token -d 'The API token for --server' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand router-cert; and __fish_seen_subcommand_from list" -l server-ca -d 'Also trust this PEM certificate for --server (e.g. DIR/tls/api.crt)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand router-cert; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c anchorage -n "__fish_anchorage_using_subcommand router-cert; and __fish_seen_subcommand_from help" -f -a "add" -d 'Certify a router\'s key for an AS the CA holds, from the router\'s PKCS#10 request (PEM or DER, an ECDSA P-256 key signed with it)'
complete -c anchorage -n "__fish_anchorage_using_subcommand router-cert; and __fish_seen_subcommand_from help" -f -a "revoke" -d 'Revoke and withdraw a router certificate'
complete -c anchorage -n "__fish_anchorage_using_subcommand router-cert; and __fish_seen_subcommand_from help" -f -a "list" -d 'List a CA\'s router certificates'
complete -c anchorage -n "__fish_anchorage_using_subcommand router-cert; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c anchorage -n "__fish_anchorage_using_subcommand ta; and not __fish_seen_subcommand_from keyroll help" -l data-dir -d 'The data directory (database, keys, rsync tree, TAL)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand ta; and not __fish_seen_subcommand_from keyroll help" -l database -d 'The store: a PostgreSQL connection string (`postgres://USER@HOST/DB` or `host=… dbname=…`) instead of the SQLite file in the data directory. `init` records it in DIR/database.url for later commands' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand ta; and not __fish_seen_subcommand_from keyroll help" -l now -d 'Pretend the current time is this RFC 3339 time (for rehearsing reissue schedules on a copy of a data dir; never in production)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand ta; and not __fish_seen_subcommand_from keyroll help" -l log -d 'Log filter, e.g. `info` or `anchorage=debug` (also RUST_LOG)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand ta; and not __fish_seen_subcommand_from keyroll help" -l log-format -d 'Log lines as text, or as JSON objects one per line (timestamp, level, target, fields) for a log collector' -r -f -a "text\t'Human-readable lines'
json\t'One JSON object per line'"
complete -c anchorage -n "__fish_anchorage_using_subcommand ta; and not __fish_seen_subcommand_from keyroll help" -l server -d 'Run `ca` and `roa` commands against this `serve` admin API (https://HOST:PORT) instead of a local data directory' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand ta; and not __fish_seen_subcommand_from keyroll help" -l token -d 'The API token for --server' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand ta; and not __fish_seen_subcommand_from keyroll help" -l server-ca -d 'Also trust this PEM certificate for --server (e.g. DIR/tls/api.crt)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand ta; and not __fish_seen_subcommand_from keyroll help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c anchorage -n "__fish_anchorage_using_subcommand ta; and not __fish_seen_subcommand_from keyroll help" -f -a "keyroll" -d 'Roll the trust anchor\'s key (RFC 9691): start (a new key and certificate announced by TAK objects, its TAL written for distribution), activate after the staging period (the TA\'s children certified by the new key; `ta.tal` becomes the new key\'s), retire the old key once relying parties use the new TAL, cancel a start, or show the keys and the next step. Every step is taken by hand'
complete -c anchorage -n "__fish_anchorage_using_subcommand ta; and not __fish_seen_subcommand_from keyroll help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c anchorage -n "__fish_anchorage_using_subcommand ta; and __fish_seen_subcommand_from keyroll" -l staging-hours -d 'With --start: the staging period in hours (default: 720, the 30-day acceptance timer of RFC 9691)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand ta; and __fish_seen_subcommand_from keyroll" -l format -d 'Output format' -r -f -a "text\t'For people'
json\t'For scripts'"
complete -c anchorage -n "__fish_anchorage_using_subcommand ta; and __fish_seen_subcommand_from keyroll" -l data-dir -d 'The data directory (database, keys, rsync tree, TAL)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand ta; and __fish_seen_subcommand_from keyroll" -l database -d 'The store: a PostgreSQL connection string (`postgres://USER@HOST/DB` or `host=… dbname=…`) instead of the SQLite file in the data directory. `init` records it in DIR/database.url for later commands' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand ta; and __fish_seen_subcommand_from keyroll" -l now -d 'Pretend the current time is this RFC 3339 time (for rehearsing reissue schedules on a copy of a data dir; never in production)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand ta; and __fish_seen_subcommand_from keyroll" -l log -d 'Log filter, e.g. `info` or `anchorage=debug` (also RUST_LOG)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand ta; and __fish_seen_subcommand_from keyroll" -l log-format -d 'Log lines as text, or as JSON objects one per line (timestamp, level, target, fields) for a log collector' -r -f -a "text\t'Human-readable lines'
json\t'One JSON object per line'"
complete -c anchorage -n "__fish_anchorage_using_subcommand ta; and __fish_seen_subcommand_from keyroll" -l server -d 'Run `ca` and `roa` commands against this `serve` admin API (https://HOST:PORT) instead of a local data directory' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand ta; and __fish_seen_subcommand_from keyroll" -l token -d 'The API token for --server' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand ta; and __fish_seen_subcommand_from keyroll" -l server-ca -d 'Also trust this PEM certificate for --server (e.g. DIR/tls/api.crt)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand ta; and __fish_seen_subcommand_from keyroll" -l start -d 'Start a rollover: a new key, its certificate and TAL'
complete -c anchorage -n "__fish_anchorage_using_subcommand ta; and __fish_seen_subcommand_from keyroll" -l activate -d 'Activate the new key (after its staging period)'
complete -c anchorage -n "__fish_anchorage_using_subcommand ta; and __fish_seen_subcommand_from keyroll" -l cancel -d 'Cancel the rollover in its staging period: the new key\'s certificate withdrawn, the key destroyed'
complete -c anchorage -n "__fish_anchorage_using_subcommand ta; and __fish_seen_subcommand_from keyroll" -l retire -d 'Retire the old key after an activation: its certificate and files withdrawn, the key destroyed'
complete -c anchorage -n "__fish_anchorage_using_subcommand ta; and __fish_seen_subcommand_from keyroll" -l status -d 'Show every key, its state and the next step'
complete -c anchorage -n "__fish_anchorage_using_subcommand ta; and __fish_seen_subcommand_from keyroll" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c anchorage -n "__fish_anchorage_using_subcommand ta; and __fish_seen_subcommand_from help" -f -a "keyroll" -d 'Roll the trust anchor\'s key (RFC 9691): start (a new key and certificate announced by TAK objects, its TAL written for distribution), activate after the staging period (the TA\'s children certified by the new key; `ta.tal` becomes the new key\'s), retire the old key once relying parties use the new TAL, cancel a start, or show the keys and the next step. Every step is taken by hand'
complete -c anchorage -n "__fish_anchorage_using_subcommand ta; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c anchorage -n "__fish_anchorage_using_subcommand token; and not __fish_seen_subcommand_from create list revoke help" -l data-dir -d 'The data directory (database, keys, rsync tree, TAL)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand token; and not __fish_seen_subcommand_from create list revoke help" -l database -d 'The store: a PostgreSQL connection string (`postgres://USER@HOST/DB` or `host=… dbname=…`) instead of the SQLite file in the data directory. `init` records it in DIR/database.url for later commands' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand token; and not __fish_seen_subcommand_from create list revoke help" -l now -d 'Pretend the current time is this RFC 3339 time (for rehearsing reissue schedules on a copy of a data dir; never in production)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand token; and not __fish_seen_subcommand_from create list revoke help" -l log -d 'Log filter, e.g. `info` or `anchorage=debug` (also RUST_LOG)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand token; and not __fish_seen_subcommand_from create list revoke help" -l log-format -d 'Log lines as text, or as JSON objects one per line (timestamp, level, target, fields) for a log collector' -r -f -a "text\t'Human-readable lines'
json\t'One JSON object per line'"
complete -c anchorage -n "__fish_anchorage_using_subcommand token; and not __fish_seen_subcommand_from create list revoke help" -l server -d 'Run `ca` and `roa` commands against this `serve` admin API (https://HOST:PORT) instead of a local data directory' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand token; and not __fish_seen_subcommand_from create list revoke help" -l token -d 'The API token for --server' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand token; and not __fish_seen_subcommand_from create list revoke help" -l server-ca -d 'Also trust this PEM certificate for --server (e.g. DIR/tls/api.crt)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand token; and not __fish_seen_subcommand_from create list revoke help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c anchorage -n "__fish_anchorage_using_subcommand token; and not __fish_seen_subcommand_from create list revoke help" -f -a "create" -d 'Create a token; it is printed once and cannot be shown again'
complete -c anchorage -n "__fish_anchorage_using_subcommand token; and not __fish_seen_subcommand_from create list revoke help" -f -a "list" -d 'List tokens (never their secrets)'
complete -c anchorage -n "__fish_anchorage_using_subcommand token; and not __fish_seen_subcommand_from create list revoke help" -f -a "revoke" -d 'Revoke a token by its id; it stops working at once'
complete -c anchorage -n "__fish_anchorage_using_subcommand token; and not __fish_seen_subcommand_from create list revoke help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c anchorage -n "__fish_anchorage_using_subcommand token; and __fish_seen_subcommand_from create" -l role -d 'What the token may do' -r -f -a "admin\t'Everything, on every CA, tokens included'
ca-operator\t'Read and change its CAs and their descendants'
read-only\t'Read everything it is scoped to (all CAs when unscoped)'"
complete -c anchorage -n "__fish_anchorage_using_subcommand token; and __fish_seen_subcommand_from create" -l ca -d 'Limit it to this CA and its descendants (repeatable; required for ca-operator)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand token; and __fish_seen_subcommand_from create" -l description -d 'What the token is for' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand token; and __fish_seen_subcommand_from create" -l format -d 'Output format' -r -f -a "text\t'For people'
json\t'For scripts'"
complete -c anchorage -n "__fish_anchorage_using_subcommand token; and __fish_seen_subcommand_from create" -l data-dir -d 'The data directory (database, keys, rsync tree, TAL)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand token; and __fish_seen_subcommand_from create" -l database -d 'The store: a PostgreSQL connection string (`postgres://USER@HOST/DB` or `host=… dbname=…`) instead of the SQLite file in the data directory. `init` records it in DIR/database.url for later commands' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand token; and __fish_seen_subcommand_from create" -l now -d 'Pretend the current time is this RFC 3339 time (for rehearsing reissue schedules on a copy of a data dir; never in production)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand token; and __fish_seen_subcommand_from create" -l log -d 'Log filter, e.g. `info` or `anchorage=debug` (also RUST_LOG)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand token; and __fish_seen_subcommand_from create" -l log-format -d 'Log lines as text, or as JSON objects one per line (timestamp, level, target, fields) for a log collector' -r -f -a "text\t'Human-readable lines'
json\t'One JSON object per line'"
complete -c anchorage -n "__fish_anchorage_using_subcommand token; and __fish_seen_subcommand_from create" -l server -d 'Run `ca` and `roa` commands against this `serve` admin API (https://HOST:PORT) instead of a local data directory' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand token; and __fish_seen_subcommand_from create" -l token -d 'The API token for --server' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand token; and __fish_seen_subcommand_from create" -l server-ca -d 'Also trust this PEM certificate for --server (e.g. DIR/tls/api.crt)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand token; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c anchorage -n "__fish_anchorage_using_subcommand token; and __fish_seen_subcommand_from list" -l format -d 'Output format' -r -f -a "text\t'For people'
json\t'For scripts'"
complete -c anchorage -n "__fish_anchorage_using_subcommand token; and __fish_seen_subcommand_from list" -l data-dir -d 'The data directory (database, keys, rsync tree, TAL)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand token; and __fish_seen_subcommand_from list" -l database -d 'The store: a PostgreSQL connection string (`postgres://USER@HOST/DB` or `host=… dbname=…`) instead of the SQLite file in the data directory. `init` records it in DIR/database.url for later commands' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand token; and __fish_seen_subcommand_from list" -l now -d 'Pretend the current time is this RFC 3339 time (for rehearsing reissue schedules on a copy of a data dir; never in production)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand token; and __fish_seen_subcommand_from list" -l log -d 'Log filter, e.g. `info` or `anchorage=debug` (also RUST_LOG)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand token; and __fish_seen_subcommand_from list" -l log-format -d 'Log lines as text, or as JSON objects one per line (timestamp, level, target, fields) for a log collector' -r -f -a "text\t'Human-readable lines'
json\t'One JSON object per line'"
complete -c anchorage -n "__fish_anchorage_using_subcommand token; and __fish_seen_subcommand_from list" -l server -d 'Run `ca` and `roa` commands against this `serve` admin API (https://HOST:PORT) instead of a local data directory' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand token; and __fish_seen_subcommand_from list" -l token -d 'The API token for --server' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand token; and __fish_seen_subcommand_from list" -l server-ca -d 'Also trust this PEM certificate for --server (e.g. DIR/tls/api.crt)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand token; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c anchorage -n "__fish_anchorage_using_subcommand token; and __fish_seen_subcommand_from revoke" -l data-dir -d 'The data directory (database, keys, rsync tree, TAL)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand token; and __fish_seen_subcommand_from revoke" -l database -d 'The store: a PostgreSQL connection string (`postgres://USER@HOST/DB` or `host=… dbname=…`) instead of the SQLite file in the data directory. `init` records it in DIR/database.url for later commands' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand token; and __fish_seen_subcommand_from revoke" -l now -d 'Pretend the current time is this RFC 3339 time (for rehearsing reissue schedules on a copy of a data dir; never in production)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand token; and __fish_seen_subcommand_from revoke" -l log -d 'Log filter, e.g. `info` or `anchorage=debug` (also RUST_LOG)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand token; and __fish_seen_subcommand_from revoke" -l log-format -d 'Log lines as text, or as JSON objects one per line (timestamp, level, target, fields) for a log collector' -r -f -a "text\t'Human-readable lines'
json\t'One JSON object per line'"
complete -c anchorage -n "__fish_anchorage_using_subcommand token; and __fish_seen_subcommand_from revoke" -l server -d 'Run `ca` and `roa` commands against this `serve` admin API (https://HOST:PORT) instead of a local data directory' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand token; and __fish_seen_subcommand_from revoke" -l token -d 'The API token for --server' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand token; and __fish_seen_subcommand_from revoke" -l server-ca -d 'Also trust this PEM certificate for --server (e.g. DIR/tls/api.crt)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand token; and __fish_seen_subcommand_from revoke" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c anchorage -n "__fish_anchorage_using_subcommand token; and __fish_seen_subcommand_from help" -f -a "create" -d 'Create a token; it is printed once and cannot be shown again'
complete -c anchorage -n "__fish_anchorage_using_subcommand token; and __fish_seen_subcommand_from help" -f -a "list" -d 'List tokens (never their secrets)'
complete -c anchorage -n "__fish_anchorage_using_subcommand token; and __fish_seen_subcommand_from help" -f -a "revoke" -d 'Revoke a token by its id; it stops working at once'
complete -c anchorage -n "__fish_anchorage_using_subcommand token; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c anchorage -n "__fish_anchorage_using_subcommand keys; and not __fish_seen_subcommand_from list encrypt help" -l data-dir -d 'The data directory (database, keys, rsync tree, TAL)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand keys; and not __fish_seen_subcommand_from list encrypt help" -l database -d 'The store: a PostgreSQL connection string (`postgres://USER@HOST/DB` or `host=… dbname=…`) instead of the SQLite file in the data directory. `init` records it in DIR/database.url for later commands' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand keys; and not __fish_seen_subcommand_from list encrypt help" -l now -d 'Pretend the current time is this RFC 3339 time (for rehearsing reissue schedules on a copy of a data dir; never in production)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand keys; and not __fish_seen_subcommand_from list encrypt help" -l log -d 'Log filter, e.g. `info` or `anchorage=debug` (also RUST_LOG)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand keys; and not __fish_seen_subcommand_from list encrypt help" -l log-format -d 'Log lines as text, or as JSON objects one per line (timestamp, level, target, fields) for a log collector' -r -f -a "text\t'Human-readable lines'
json\t'One JSON object per line'"
complete -c anchorage -n "__fish_anchorage_using_subcommand keys; and not __fish_seen_subcommand_from list encrypt help" -l server -d 'Run `ca` and `roa` commands against this `serve` admin API (https://HOST:PORT) instead of a local data directory' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand keys; and not __fish_seen_subcommand_from list encrypt help" -l token -d 'The API token for --server' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand keys; and not __fish_seen_subcommand_from list encrypt help" -l server-ca -d 'Also trust this PEM certificate for --server (e.g. DIR/tls/api.crt)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand keys; and not __fish_seen_subcommand_from list encrypt help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c anchorage -n "__fish_anchorage_using_subcommand keys; and not __fish_seen_subcommand_from list encrypt help" -f -a "list" -d 'Every key: its backend, state, the CA and role that use it, and when it was made'
complete -c anchorage -n "__fish_anchorage_using_subcommand keys; and not __fish_seen_subcommand_from list encrypt help" -f -a "encrypt" -d 'Seal the software keys at rest with the secret the environment gives (ANCHORAGE_KEY_PASSPHRASE_FILE, ANCHORAGE_KEY_PASSPHRASE or ANCHORAGE_KEY_FILE), in place and crash-safely (run it again after an interruption). `serve` must be stopped; every command needs the same secret afterwards'
complete -c anchorage -n "__fish_anchorage_using_subcommand keys; and not __fish_seen_subcommand_from list encrypt help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c anchorage -n "__fish_anchorage_using_subcommand keys; and __fish_seen_subcommand_from list" -l format -d 'Output format' -r -f -a "text\t'For people'
json\t'For scripts'"
complete -c anchorage -n "__fish_anchorage_using_subcommand keys; and __fish_seen_subcommand_from list" -l data-dir -d 'The data directory (database, keys, rsync tree, TAL)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand keys; and __fish_seen_subcommand_from list" -l database -d 'The store: a PostgreSQL connection string (`postgres://USER@HOST/DB` or `host=… dbname=…`) instead of the SQLite file in the data directory. `init` records it in DIR/database.url for later commands' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand keys; and __fish_seen_subcommand_from list" -l now -d 'Pretend the current time is this RFC 3339 time (for rehearsing reissue schedules on a copy of a data dir; never in production)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand keys; and __fish_seen_subcommand_from list" -l log -d 'Log filter, e.g. `info` or `anchorage=debug` (also RUST_LOG)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand keys; and __fish_seen_subcommand_from list" -l log-format -d 'Log lines as text, or as JSON objects one per line (timestamp, level, target, fields) for a log collector' -r -f -a "text\t'Human-readable lines'
json\t'One JSON object per line'"
complete -c anchorage -n "__fish_anchorage_using_subcommand keys; and __fish_seen_subcommand_from list" -l server -d 'Run `ca` and `roa` commands against this `serve` admin API (https://HOST:PORT) instead of a local data directory' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand keys; and __fish_seen_subcommand_from list" -l token -d 'The API token for --server' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand keys; and __fish_seen_subcommand_from list" -l server-ca -d 'Also trust this PEM certificate for --server (e.g. DIR/tls/api.crt)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand keys; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c anchorage -n "__fish_anchorage_using_subcommand keys; and __fish_seen_subcommand_from encrypt" -l data-dir -d 'The data directory (database, keys, rsync tree, TAL)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand keys; and __fish_seen_subcommand_from encrypt" -l database -d 'The store: a PostgreSQL connection string (`postgres://USER@HOST/DB` or `host=… dbname=…`) instead of the SQLite file in the data directory. `init` records it in DIR/database.url for later commands' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand keys; and __fish_seen_subcommand_from encrypt" -l now -d 'Pretend the current time is this RFC 3339 time (for rehearsing reissue schedules on a copy of a data dir; never in production)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand keys; and __fish_seen_subcommand_from encrypt" -l log -d 'Log filter, e.g. `info` or `anchorage=debug` (also RUST_LOG)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand keys; and __fish_seen_subcommand_from encrypt" -l log-format -d 'Log lines as text, or as JSON objects one per line (timestamp, level, target, fields) for a log collector' -r -f -a "text\t'Human-readable lines'
json\t'One JSON object per line'"
complete -c anchorage -n "__fish_anchorage_using_subcommand keys; and __fish_seen_subcommand_from encrypt" -l server -d 'Run `ca` and `roa` commands against this `serve` admin API (https://HOST:PORT) instead of a local data directory' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand keys; and __fish_seen_subcommand_from encrypt" -l token -d 'The API token for --server' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand keys; and __fish_seen_subcommand_from encrypt" -l server-ca -d 'Also trust this PEM certificate for --server (e.g. DIR/tls/api.crt)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand keys; and __fish_seen_subcommand_from encrypt" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c anchorage -n "__fish_anchorage_using_subcommand keys; and __fish_seen_subcommand_from help" -f -a "list" -d 'Every key: its backend, state, the CA and role that use it, and when it was made'
complete -c anchorage -n "__fish_anchorage_using_subcommand keys; and __fish_seen_subcommand_from help" -f -a "encrypt" -d 'Seal the software keys at rest with the secret the environment gives (ANCHORAGE_KEY_PASSPHRASE_FILE, ANCHORAGE_KEY_PASSPHRASE or ANCHORAGE_KEY_FILE), in place and crash-safely (run it again after an interruption). `serve` must be stopped; every command needs the same secret afterwards'
complete -c anchorage -n "__fish_anchorage_using_subcommand keys; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c anchorage -n "__fish_anchorage_using_subcommand bgp; and not __fish_seen_subcommand_from load help" -l data-dir -d 'The data directory (database, keys, rsync tree, TAL)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand bgp; and not __fish_seen_subcommand_from load help" -l database -d 'The store: a PostgreSQL connection string (`postgres://USER@HOST/DB` or `host=… dbname=…`) instead of the SQLite file in the data directory. `init` records it in DIR/database.url for later commands' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand bgp; and not __fish_seen_subcommand_from load help" -l now -d 'Pretend the current time is this RFC 3339 time (for rehearsing reissue schedules on a copy of a data dir; never in production)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand bgp; and not __fish_seen_subcommand_from load help" -l log -d 'Log filter, e.g. `info` or `anchorage=debug` (also RUST_LOG)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand bgp; and not __fish_seen_subcommand_from load help" -l log-format -d 'Log lines as text, or as JSON objects one per line (timestamp, level, target, fields) for a log collector' -r -f -a "text\t'Human-readable lines'
json\t'One JSON object per line'"
complete -c anchorage -n "__fish_anchorage_using_subcommand bgp; and not __fish_seen_subcommand_from load help" -l server -d 'Run `ca` and `roa` commands against this `serve` admin API (https://HOST:PORT) instead of a local data directory' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand bgp; and not __fish_seen_subcommand_from load help" -l token -d 'The API token for --server' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand bgp; and not __fish_seen_subcommand_from load help" -l server-ca -d 'Also trust this PEM certificate for --server (e.g. DIR/tls/api.crt)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand bgp; and not __fish_seen_subcommand_from load help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c anchorage -n "__fish_anchorage_using_subcommand bgp; and not __fish_seen_subcommand_from load help" -f -a "load" -d 'Load a table of announcements (CSV `prefix,origin-asn`, or an MRT RIB dump, raw or gzip) into the data directory, replacing the last'
complete -c anchorage -n "__fish_anchorage_using_subcommand bgp; and not __fish_seen_subcommand_from load help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c anchorage -n "__fish_anchorage_using_subcommand bgp; and __fish_seen_subcommand_from load" -l format -d 'Its format [default: csv for *.csv, else mrt]' -r -f -a "csv\t'`prefix,origin-asn` lines'
mrt\t'An MRT RIB dump (TABLE_DUMP_V2), raw or gzip-compressed'"
complete -c anchorage -n "__fish_anchorage_using_subcommand bgp; and __fish_seen_subcommand_from load" -l data-dir -d 'The data directory (database, keys, rsync tree, TAL)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand bgp; and __fish_seen_subcommand_from load" -l database -d 'The store: a PostgreSQL connection string (`postgres://USER@HOST/DB` or `host=… dbname=…`) instead of the SQLite file in the data directory. `init` records it in DIR/database.url for later commands' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand bgp; and __fish_seen_subcommand_from load" -l now -d 'Pretend the current time is this RFC 3339 time (for rehearsing reissue schedules on a copy of a data dir; never in production)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand bgp; and __fish_seen_subcommand_from load" -l log -d 'Log filter, e.g. `info` or `anchorage=debug` (also RUST_LOG)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand bgp; and __fish_seen_subcommand_from load" -l log-format -d 'Log lines as text, or as JSON objects one per line (timestamp, level, target, fields) for a log collector' -r -f -a "text\t'Human-readable lines'
json\t'One JSON object per line'"
complete -c anchorage -n "__fish_anchorage_using_subcommand bgp; and __fish_seen_subcommand_from load" -l server -d 'Run `ca` and `roa` commands against this `serve` admin API (https://HOST:PORT) instead of a local data directory' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand bgp; and __fish_seen_subcommand_from load" -l token -d 'The API token for --server' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand bgp; and __fish_seen_subcommand_from load" -l server-ca -d 'Also trust this PEM certificate for --server (e.g. DIR/tls/api.crt)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand bgp; and __fish_seen_subcommand_from load" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c anchorage -n "__fish_anchorage_using_subcommand bgp; and __fish_seen_subcommand_from help" -f -a "load" -d 'Load a table of announcements (CSV `prefix,origin-asn`, or an MRT RIB dump, raw or gzip) into the data directory, replacing the last'
complete -c anchorage -n "__fish_anchorage_using_subcommand bgp; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c anchorage -n "__fish_anchorage_using_subcommand child; and not __fish_seen_subcommand_from add list update remove help" -l data-dir -d 'The data directory (database, keys, rsync tree, TAL)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand child; and not __fish_seen_subcommand_from add list update remove help" -l database -d 'The store: a PostgreSQL connection string (`postgres://USER@HOST/DB` or `host=… dbname=…`) instead of the SQLite file in the data directory. `init` records it in DIR/database.url for later commands' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand child; and not __fish_seen_subcommand_from add list update remove help" -l now -d 'Pretend the current time is this RFC 3339 time (for rehearsing reissue schedules on a copy of a data dir; never in production)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand child; and not __fish_seen_subcommand_from add list update remove help" -l log -d 'Log filter, e.g. `info` or `anchorage=debug` (also RUST_LOG)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand child; and not __fish_seen_subcommand_from add list update remove help" -l log-format -d 'Log lines as text, or as JSON objects one per line (timestamp, level, target, fields) for a log collector' -r -f -a "text\t'Human-readable lines'
json\t'One JSON object per line'"
complete -c anchorage -n "__fish_anchorage_using_subcommand child; and not __fish_seen_subcommand_from add list update remove help" -l server -d 'Run `ca` and `roa` commands against this `serve` admin API (https://HOST:PORT) instead of a local data directory' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand child; and not __fish_seen_subcommand_from add list update remove help" -l token -d 'The API token for --server' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand child; and not __fish_seen_subcommand_from add list update remove help" -l server-ca -d 'Also trust this PEM certificate for --server (e.g. DIR/tls/api.crt)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand child; and not __fish_seen_subcommand_from add list update remove help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c anchorage -n "__fish_anchorage_using_subcommand child; and not __fish_seen_subcommand_from add list update remove help" -f -a "add" -d 'Import an RFC 8183 child request; write the parent response'
complete -c anchorage -n "__fish_anchorage_using_subcommand child; and not __fish_seen_subcommand_from add list update remove help" -f -a "list" -d 'List delegated children and the certificates they hold'
complete -c anchorage -n "__fish_anchorage_using_subcommand child; and not __fish_seen_subcommand_from add list update remove help" -f -a "update" -d 'Change a child\'s entitlement; lost resources are taken back at once'
complete -c anchorage -n "__fish_anchorage_using_subcommand child; and not __fish_seen_subcommand_from add list update remove help" -f -a "remove" -d 'Remove a child and revoke its certificates'
complete -c anchorage -n "__fish_anchorage_using_subcommand child; and not __fish_seen_subcommand_from add list update remove help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c anchorage -n "__fish_anchorage_using_subcommand child; and __fish_seen_subcommand_from add" -l request -d 'The child\'s `<child_request/>` XML' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand child; and __fish_seen_subcommand_from add" -l resources -d 'What the child is entitled to; within the parent\'s resources' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand child; and __fish_seen_subcommand_from add" -l response -d 'Where to write the `<parent_response/>` (default: stdout)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand child; and __fish_seen_subcommand_from add" -l service-uri -d 'Base of the service URI, e.g. https://rpki.example.net (default: the origin of the RRDP URI)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand child; and __fish_seen_subcommand_from add" -l data-dir -d 'The data directory (database, keys, rsync tree, TAL)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand child; and __fish_seen_subcommand_from add" -l database -d 'The store: a PostgreSQL connection string (`postgres://USER@HOST/DB` or `host=… dbname=…`) instead of the SQLite file in the data directory. `init` records it in DIR/database.url for later commands' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand child; and __fish_seen_subcommand_from add" -l now -d 'Pretend the current time is this RFC 3339 time (for rehearsing reissue schedules on a copy of a data dir; never in production)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand child; and __fish_seen_subcommand_from add" -l log -d 'Log filter, e.g. `info` or `anchorage=debug` (also RUST_LOG)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand child; and __fish_seen_subcommand_from add" -l log-format -d 'Log lines as text, or as JSON objects one per line (timestamp, level, target, fields) for a log collector' -r -f -a "text\t'Human-readable lines'
json\t'One JSON object per line'"
complete -c anchorage -n "__fish_anchorage_using_subcommand child; and __fish_seen_subcommand_from add" -l server -d 'Run `ca` and `roa` commands against this `serve` admin API (https://HOST:PORT) instead of a local data directory' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand child; and __fish_seen_subcommand_from add" -l token -d 'The API token for --server' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand child; and __fish_seen_subcommand_from add" -l server-ca -d 'Also trust this PEM certificate for --server (e.g. DIR/tls/api.crt)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand child; and __fish_seen_subcommand_from add" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c anchorage -n "__fish_anchorage_using_subcommand child; and __fish_seen_subcommand_from list" -l format -d 'Output format' -r -f -a "text\t'For people'
json\t'For scripts'"
complete -c anchorage -n "__fish_anchorage_using_subcommand child; and __fish_seen_subcommand_from list" -l data-dir -d 'The data directory (database, keys, rsync tree, TAL)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand child; and __fish_seen_subcommand_from list" -l database -d 'The store: a PostgreSQL connection string (`postgres://USER@HOST/DB` or `host=… dbname=…`) instead of the SQLite file in the data directory. `init` records it in DIR/database.url for later commands' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand child; and __fish_seen_subcommand_from list" -l now -d 'Pretend the current time is this RFC 3339 time (for rehearsing reissue schedules on a copy of a data dir; never in production)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand child; and __fish_seen_subcommand_from list" -l log -d 'Log filter, e.g. `info` or `anchorage=debug` (also RUST_LOG)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand child; and __fish_seen_subcommand_from list" -l log-format -d 'Log lines as text, or as JSON objects one per line (timestamp, level, target, fields) for a log collector' -r -f -a "text\t'Human-readable lines'
json\t'One JSON object per line'"
complete -c anchorage -n "__fish_anchorage_using_subcommand child; and __fish_seen_subcommand_from list" -l server -d 'Run `ca` and `roa` commands against this `serve` admin API (https://HOST:PORT) instead of a local data directory' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand child; and __fish_seen_subcommand_from list" -l token -d 'The API token for --server' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand child; and __fish_seen_subcommand_from list" -l server-ca -d 'Also trust this PEM certificate for --server (e.g. DIR/tls/api.crt)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand child; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c anchorage -n "__fish_anchorage_using_subcommand child; and __fish_seen_subcommand_from update" -l resources -d 'The new entitlement' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand child; and __fish_seen_subcommand_from update" -l data-dir -d 'The data directory (database, keys, rsync tree, TAL)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand child; and __fish_seen_subcommand_from update" -l database -d 'The store: a PostgreSQL connection string (`postgres://USER@HOST/DB` or `host=… dbname=…`) instead of the SQLite file in the data directory. `init` records it in DIR/database.url for later commands' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand child; and __fish_seen_subcommand_from update" -l now -d 'Pretend the current time is this RFC 3339 time (for rehearsing reissue schedules on a copy of a data dir; never in production)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand child; and __fish_seen_subcommand_from update" -l log -d 'Log filter, e.g. `info` or `anchorage=debug` (also RUST_LOG)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand child; and __fish_seen_subcommand_from update" -l log-format -d 'Log lines as text, or as JSON objects one per line (timestamp, level, target, fields) for a log collector' -r -f -a "text\t'Human-readable lines'
json\t'One JSON object per line'"
complete -c anchorage -n "__fish_anchorage_using_subcommand child; and __fish_seen_subcommand_from update" -l server -d 'Run `ca` and `roa` commands against this `serve` admin API (https://HOST:PORT) instead of a local data directory' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand child; and __fish_seen_subcommand_from update" -l token -d 'The API token for --server' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand child; and __fish_seen_subcommand_from update" -l server-ca -d 'Also trust this PEM certificate for --server (e.g. DIR/tls/api.crt)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand child; and __fish_seen_subcommand_from update" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c anchorage -n "__fish_anchorage_using_subcommand child; and __fish_seen_subcommand_from remove" -l data-dir -d 'The data directory (database, keys, rsync tree, TAL)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand child; and __fish_seen_subcommand_from remove" -l database -d 'The store: a PostgreSQL connection string (`postgres://USER@HOST/DB` or `host=… dbname=…`) instead of the SQLite file in the data directory. `init` records it in DIR/database.url for later commands' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand child; and __fish_seen_subcommand_from remove" -l now -d 'Pretend the current time is this RFC 3339 time (for rehearsing reissue schedules on a copy of a data dir; never in production)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand child; and __fish_seen_subcommand_from remove" -l log -d 'Log filter, e.g. `info` or `anchorage=debug` (also RUST_LOG)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand child; and __fish_seen_subcommand_from remove" -l log-format -d 'Log lines as text, or as JSON objects one per line (timestamp, level, target, fields) for a log collector' -r -f -a "text\t'Human-readable lines'
json\t'One JSON object per line'"
complete -c anchorage -n "__fish_anchorage_using_subcommand child; and __fish_seen_subcommand_from remove" -l server -d 'Run `ca` and `roa` commands against this `serve` admin API (https://HOST:PORT) instead of a local data directory' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand child; and __fish_seen_subcommand_from remove" -l token -d 'The API token for --server' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand child; and __fish_seen_subcommand_from remove" -l server-ca -d 'Also trust this PEM certificate for --server (e.g. DIR/tls/api.crt)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand child; and __fish_seen_subcommand_from remove" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c anchorage -n "__fish_anchorage_using_subcommand child; and __fish_seen_subcommand_from help" -f -a "add" -d 'Import an RFC 8183 child request; write the parent response'
complete -c anchorage -n "__fish_anchorage_using_subcommand child; and __fish_seen_subcommand_from help" -f -a "list" -d 'List delegated children and the certificates they hold'
complete -c anchorage -n "__fish_anchorage_using_subcommand child; and __fish_seen_subcommand_from help" -f -a "update" -d 'Change a child\'s entitlement; lost resources are taken back at once'
complete -c anchorage -n "__fish_anchorage_using_subcommand child; and __fish_seen_subcommand_from help" -f -a "remove" -d 'Remove a child and revoke its certificates'
complete -c anchorage -n "__fish_anchorage_using_subcommand child; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c anchorage -n "__fish_anchorage_using_subcommand publisher; and not __fish_seen_subcommand_from add list remove help" -l data-dir -d 'The data directory (database, keys, rsync tree, TAL)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand publisher; and not __fish_seen_subcommand_from add list remove help" -l database -d 'The store: a PostgreSQL connection string (`postgres://USER@HOST/DB` or `host=… dbname=…`) instead of the SQLite file in the data directory. `init` records it in DIR/database.url for later commands' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand publisher; and not __fish_seen_subcommand_from add list remove help" -l now -d 'Pretend the current time is this RFC 3339 time (for rehearsing reissue schedules on a copy of a data dir; never in production)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand publisher; and not __fish_seen_subcommand_from add list remove help" -l log -d 'Log filter, e.g. `info` or `anchorage=debug` (also RUST_LOG)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand publisher; and not __fish_seen_subcommand_from add list remove help" -l log-format -d 'Log lines as text, or as JSON objects one per line (timestamp, level, target, fields) for a log collector' -r -f -a "text\t'Human-readable lines'
json\t'One JSON object per line'"
complete -c anchorage -n "__fish_anchorage_using_subcommand publisher; and not __fish_seen_subcommand_from add list remove help" -l server -d 'Run `ca` and `roa` commands against this `serve` admin API (https://HOST:PORT) instead of a local data directory' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand publisher; and not __fish_seen_subcommand_from add list remove help" -l token -d 'The API token for --server' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand publisher; and not __fish_seen_subcommand_from add list remove help" -l server-ca -d 'Also trust this PEM certificate for --server (e.g. DIR/tls/api.crt)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand publisher; and not __fish_seen_subcommand_from add list remove help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c anchorage -n "__fish_anchorage_using_subcommand publisher; and not __fish_seen_subcommand_from add list remove help" -f -a "add" -d 'Import an RFC 8183 publisher request; write the repository response'
complete -c anchorage -n "__fish_anchorage_using_subcommand publisher; and not __fish_seen_subcommand_from add list remove help" -f -a "list" -d 'List publishers'
complete -c anchorage -n "__fish_anchorage_using_subcommand publisher; and not __fish_seen_subcommand_from add list remove help" -f -a "remove" -d 'Remove a publisher and withdraw everything it published'
complete -c anchorage -n "__fish_anchorage_using_subcommand publisher; and not __fish_seen_subcommand_from add list remove help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c anchorage -n "__fish_anchorage_using_subcommand publisher; and __fish_seen_subcommand_from add" -l request -d 'The publisher\'s `<publisher_request/>` XML' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand publisher; and __fish_seen_subcommand_from add" -l response -d 'Where to write the `<repository_response/>` (default: stdout)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand publisher; and __fish_seen_subcommand_from add" -l service-uri -d 'Base of the service URI (default: the origin of the RRDP URI)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand publisher; and __fish_seen_subcommand_from add" -l data-dir -d 'The data directory (database, keys, rsync tree, TAL)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand publisher; and __fish_seen_subcommand_from add" -l database -d 'The store: a PostgreSQL connection string (`postgres://USER@HOST/DB` or `host=… dbname=…`) instead of the SQLite file in the data directory. `init` records it in DIR/database.url for later commands' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand publisher; and __fish_seen_subcommand_from add" -l now -d 'Pretend the current time is this RFC 3339 time (for rehearsing reissue schedules on a copy of a data dir; never in production)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand publisher; and __fish_seen_subcommand_from add" -l log -d 'Log filter, e.g. `info` or `anchorage=debug` (also RUST_LOG)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand publisher; and __fish_seen_subcommand_from add" -l log-format -d 'Log lines as text, or as JSON objects one per line (timestamp, level, target, fields) for a log collector' -r -f -a "text\t'Human-readable lines'
json\t'One JSON object per line'"
complete -c anchorage -n "__fish_anchorage_using_subcommand publisher; and __fish_seen_subcommand_from add" -l server -d 'Run `ca` and `roa` commands against this `serve` admin API (https://HOST:PORT) instead of a local data directory' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand publisher; and __fish_seen_subcommand_from add" -l token -d 'The API token for --server' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand publisher; and __fish_seen_subcommand_from add" -l server-ca -d 'Also trust this PEM certificate for --server (e.g. DIR/tls/api.crt)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand publisher; and __fish_seen_subcommand_from add" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c anchorage -n "__fish_anchorage_using_subcommand publisher; and __fish_seen_subcommand_from list" -l format -d 'Output format' -r -f -a "text\t'For people'
json\t'For scripts'"
complete -c anchorage -n "__fish_anchorage_using_subcommand publisher; and __fish_seen_subcommand_from list" -l data-dir -d 'The data directory (database, keys, rsync tree, TAL)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand publisher; and __fish_seen_subcommand_from list" -l database -d 'The store: a PostgreSQL connection string (`postgres://USER@HOST/DB` or `host=… dbname=…`) instead of the SQLite file in the data directory. `init` records it in DIR/database.url for later commands' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand publisher; and __fish_seen_subcommand_from list" -l now -d 'Pretend the current time is this RFC 3339 time (for rehearsing reissue schedules on a copy of a data dir; never in production)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand publisher; and __fish_seen_subcommand_from list" -l log -d 'Log filter, e.g. `info` or `anchorage=debug` (also RUST_LOG)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand publisher; and __fish_seen_subcommand_from list" -l log-format -d 'Log lines as text, or as JSON objects one per line (timestamp, level, target, fields) for a log collector' -r -f -a "text\t'Human-readable lines'
json\t'One JSON object per line'"
complete -c anchorage -n "__fish_anchorage_using_subcommand publisher; and __fish_seen_subcommand_from list" -l server -d 'Run `ca` and `roa` commands against this `serve` admin API (https://HOST:PORT) instead of a local data directory' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand publisher; and __fish_seen_subcommand_from list" -l token -d 'The API token for --server' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand publisher; and __fish_seen_subcommand_from list" -l server-ca -d 'Also trust this PEM certificate for --server (e.g. DIR/tls/api.crt)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand publisher; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c anchorage -n "__fish_anchorage_using_subcommand publisher; and __fish_seen_subcommand_from remove" -l data-dir -d 'The data directory (database, keys, rsync tree, TAL)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand publisher; and __fish_seen_subcommand_from remove" -l database -d 'The store: a PostgreSQL connection string (`postgres://USER@HOST/DB` or `host=… dbname=…`) instead of the SQLite file in the data directory. `init` records it in DIR/database.url for later commands' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand publisher; and __fish_seen_subcommand_from remove" -l now -d 'Pretend the current time is this RFC 3339 time (for rehearsing reissue schedules on a copy of a data dir; never in production)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand publisher; and __fish_seen_subcommand_from remove" -l log -d 'Log filter, e.g. `info` or `anchorage=debug` (also RUST_LOG)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand publisher; and __fish_seen_subcommand_from remove" -l log-format -d 'Log lines as text, or as JSON objects one per line (timestamp, level, target, fields) for a log collector' -r -f -a "text\t'Human-readable lines'
json\t'One JSON object per line'"
complete -c anchorage -n "__fish_anchorage_using_subcommand publisher; and __fish_seen_subcommand_from remove" -l server -d 'Run `ca` and `roa` commands against this `serve` admin API (https://HOST:PORT) instead of a local data directory' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand publisher; and __fish_seen_subcommand_from remove" -l token -d 'The API token for --server' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand publisher; and __fish_seen_subcommand_from remove" -l server-ca -d 'Also trust this PEM certificate for --server (e.g. DIR/tls/api.crt)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand publisher; and __fish_seen_subcommand_from remove" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c anchorage -n "__fish_anchorage_using_subcommand publisher; and __fish_seen_subcommand_from help" -f -a "add" -d 'Import an RFC 8183 publisher request; write the repository response'
complete -c anchorage -n "__fish_anchorage_using_subcommand publisher; and __fish_seen_subcommand_from help" -f -a "list" -d 'List publishers'
complete -c anchorage -n "__fish_anchorage_using_subcommand publisher; and __fish_seen_subcommand_from help" -f -a "remove" -d 'Remove a publisher and withdraw everything it published'
complete -c anchorage -n "__fish_anchorage_using_subcommand publisher; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c anchorage -n "__fish_anchorage_using_subcommand parent; and not __fish_seen_subcommand_from request add sync list remove help" -l data-dir -d 'The data directory (database, keys, rsync tree, TAL)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand parent; and not __fish_seen_subcommand_from request add sync list remove help" -l database -d 'The store: a PostgreSQL connection string (`postgres://USER@HOST/DB` or `host=… dbname=…`) instead of the SQLite file in the data directory. `init` records it in DIR/database.url for later commands' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand parent; and not __fish_seen_subcommand_from request add sync list remove help" -l now -d 'Pretend the current time is this RFC 3339 time (for rehearsing reissue schedules on a copy of a data dir; never in production)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand parent; and not __fish_seen_subcommand_from request add sync list remove help" -l log -d 'Log filter, e.g. `info` or `anchorage=debug` (also RUST_LOG)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand parent; and not __fish_seen_subcommand_from request add sync list remove help" -l log-format -d 'Log lines as text, or as JSON objects one per line (timestamp, level, target, fields) for a log collector' -r -f -a "text\t'Human-readable lines'
json\t'One JSON object per line'"
complete -c anchorage -n "__fish_anchorage_using_subcommand parent; and not __fish_seen_subcommand_from request add sync list remove help" -l server -d 'Run `ca` and `roa` commands against this `serve` admin API (https://HOST:PORT) instead of a local data directory' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand parent; and not __fish_seen_subcommand_from request add sync list remove help" -l token -d 'The API token for --server' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand parent; and not __fish_seen_subcommand_from request add sync list remove help" -l server-ca -d 'Also trust this PEM certificate for --server (e.g. DIR/tls/api.crt)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand parent; and not __fish_seen_subcommand_from request add sync list remove help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c anchorage -n "__fish_anchorage_using_subcommand parent; and not __fish_seen_subcommand_from request add sync list remove help" -f -a "request" -d 'Write the RFC 8183 child request for local CA HANDLE (to send to the parent)'
complete -c anchorage -n "__fish_anchorage_using_subcommand parent; and not __fish_seen_subcommand_from request add sync list remove help" -f -a "add" -d 'Import the parent\'s response: HANDLE becomes its child, and is created and certified by the first sync'
complete -c anchorage -n "__fish_anchorage_using_subcommand parent; and not __fish_seen_subcommand_from request add sync list remove help" -f -a "sync" -d 'Sync with the remote parent(s): entitlements, certificate, shrinking'
complete -c anchorage -n "__fish_anchorage_using_subcommand parent; and not __fish_seen_subcommand_from request add sync list remove help" -f -a "list" -d 'List remote parents and their last sync'
complete -c anchorage -n "__fish_anchorage_using_subcommand parent; and not __fish_seen_subcommand_from request add sync list remove help" -f -a "remove" -d 'Remove the remote parent of local CA HANDLE (it dropped the CA): the CA and everything it published are withdrawn'
complete -c anchorage -n "__fish_anchorage_using_subcommand parent; and not __fish_seen_subcommand_from request add sync list remove help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c anchorage -n "__fish_anchorage_using_subcommand parent; and __fish_seen_subcommand_from request" -l output -d 'Where to write the `<child_request/>` (default: stdout)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand parent; and __fish_seen_subcommand_from request" -l data-dir -d 'The data directory (database, keys, rsync tree, TAL)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand parent; and __fish_seen_subcommand_from request" -l database -d 'The store: a PostgreSQL connection string (`postgres://USER@HOST/DB` or `host=… dbname=…`) instead of the SQLite file in the data directory. `init` records it in DIR/database.url for later commands' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand parent; and __fish_seen_subcommand_from request" -l now -d 'Pretend the current time is this RFC 3339 time (for rehearsing reissue schedules on a copy of a data dir; never in production)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand parent; and __fish_seen_subcommand_from request" -l log -d 'Log filter, e.g. `info` or `anchorage=debug` (also RUST_LOG)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand parent; and __fish_seen_subcommand_from request" -l log-format -d 'Log lines as text, or as JSON objects one per line (timestamp, level, target, fields) for a log collector' -r -f -a "text\t'Human-readable lines'
json\t'One JSON object per line'"
complete -c anchorage -n "__fish_anchorage_using_subcommand parent; and __fish_seen_subcommand_from request" -l server -d 'Run `ca` and `roa` commands against this `serve` admin API (https://HOST:PORT) instead of a local data directory' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand parent; and __fish_seen_subcommand_from request" -l token -d 'The API token for --server' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand parent; and __fish_seen_subcommand_from request" -l server-ca -d 'Also trust this PEM certificate for --server (e.g. DIR/tls/api.crt)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand parent; and __fish_seen_subcommand_from request" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c anchorage -n "__fish_anchorage_using_subcommand parent; and __fish_seen_subcommand_from add" -l response -d 'The parent\'s `<parent_response/>` XML' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand parent; and __fish_seen_subcommand_from add" -l data-dir -d 'The data directory (database, keys, rsync tree, TAL)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand parent; and __fish_seen_subcommand_from add" -l database -d 'The store: a PostgreSQL connection string (`postgres://USER@HOST/DB` or `host=… dbname=…`) instead of the SQLite file in the data directory. `init` records it in DIR/database.url for later commands' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand parent; and __fish_seen_subcommand_from add" -l now -d 'Pretend the current time is this RFC 3339 time (for rehearsing reissue schedules on a copy of a data dir; never in production)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand parent; and __fish_seen_subcommand_from add" -l log -d 'Log filter, e.g. `info` or `anchorage=debug` (also RUST_LOG)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand parent; and __fish_seen_subcommand_from add" -l log-format -d 'Log lines as text, or as JSON objects one per line (timestamp, level, target, fields) for a log collector' -r -f -a "text\t'Human-readable lines'
json\t'One JSON object per line'"
complete -c anchorage -n "__fish_anchorage_using_subcommand parent; and __fish_seen_subcommand_from add" -l server -d 'Run `ca` and `roa` commands against this `serve` admin API (https://HOST:PORT) instead of a local data directory' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand parent; and __fish_seen_subcommand_from add" -l token -d 'The API token for --server' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand parent; and __fish_seen_subcommand_from add" -l server-ca -d 'Also trust this PEM certificate for --server (e.g. DIR/tls/api.crt)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand parent; and __fish_seen_subcommand_from add" -l no-sync -d 'Do not sync now (serve syncs every `parent_sync_minutes`)'
complete -c anchorage -n "__fish_anchorage_using_subcommand parent; and __fish_seen_subcommand_from add" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c anchorage -n "__fish_anchorage_using_subcommand parent; and __fish_seen_subcommand_from sync" -l data-dir -d 'The data directory (database, keys, rsync tree, TAL)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand parent; and __fish_seen_subcommand_from sync" -l database -d 'The store: a PostgreSQL connection string (`postgres://USER@HOST/DB` or `host=… dbname=…`) instead of the SQLite file in the data directory. `init` records it in DIR/database.url for later commands' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand parent; and __fish_seen_subcommand_from sync" -l now -d 'Pretend the current time is this RFC 3339 time (for rehearsing reissue schedules on a copy of a data dir; never in production)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand parent; and __fish_seen_subcommand_from sync" -l log -d 'Log filter, e.g. `info` or `anchorage=debug` (also RUST_LOG)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand parent; and __fish_seen_subcommand_from sync" -l log-format -d 'Log lines as text, or as JSON objects one per line (timestamp, level, target, fields) for a log collector' -r -f -a "text\t'Human-readable lines'
json\t'One JSON object per line'"
complete -c anchorage -n "__fish_anchorage_using_subcommand parent; and __fish_seen_subcommand_from sync" -l server -d 'Run `ca` and `roa` commands against this `serve` admin API (https://HOST:PORT) instead of a local data directory' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand parent; and __fish_seen_subcommand_from sync" -l token -d 'The API token for --server' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand parent; and __fish_seen_subcommand_from sync" -l server-ca -d 'Also trust this PEM certificate for --server (e.g. DIR/tls/api.crt)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand parent; and __fish_seen_subcommand_from sync" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c anchorage -n "__fish_anchorage_using_subcommand parent; and __fish_seen_subcommand_from list" -l format -d 'Output format' -r -f -a "text\t'For people'
json\t'For scripts'"
complete -c anchorage -n "__fish_anchorage_using_subcommand parent; and __fish_seen_subcommand_from list" -l data-dir -d 'The data directory (database, keys, rsync tree, TAL)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand parent; and __fish_seen_subcommand_from list" -l database -d 'The store: a PostgreSQL connection string (`postgres://USER@HOST/DB` or `host=… dbname=…`) instead of the SQLite file in the data directory. `init` records it in DIR/database.url for later commands' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand parent; and __fish_seen_subcommand_from list" -l now -d 'Pretend the current time is this RFC 3339 time (for rehearsing reissue schedules on a copy of a data dir; never in production)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand parent; and __fish_seen_subcommand_from list" -l log -d 'Log filter, e.g. `info` or `anchorage=debug` (also RUST_LOG)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand parent; and __fish_seen_subcommand_from list" -l log-format -d 'Log lines as text, or as JSON objects one per line (timestamp, level, target, fields) for a log collector' -r -f -a "text\t'Human-readable lines'
json\t'One JSON object per line'"
complete -c anchorage -n "__fish_anchorage_using_subcommand parent; and __fish_seen_subcommand_from list" -l server -d 'Run `ca` and `roa` commands against this `serve` admin API (https://HOST:PORT) instead of a local data directory' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand parent; and __fish_seen_subcommand_from list" -l token -d 'The API token for --server' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand parent; and __fish_seen_subcommand_from list" -l server-ca -d 'Also trust this PEM certificate for --server (e.g. DIR/tls/api.crt)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand parent; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c anchorage -n "__fish_anchorage_using_subcommand parent; and __fish_seen_subcommand_from remove" -l data-dir -d 'The data directory (database, keys, rsync tree, TAL)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand parent; and __fish_seen_subcommand_from remove" -l database -d 'The store: a PostgreSQL connection string (`postgres://USER@HOST/DB` or `host=… dbname=…`) instead of the SQLite file in the data directory. `init` records it in DIR/database.url for later commands' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand parent; and __fish_seen_subcommand_from remove" -l now -d 'Pretend the current time is this RFC 3339 time (for rehearsing reissue schedules on a copy of a data dir; never in production)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand parent; and __fish_seen_subcommand_from remove" -l log -d 'Log filter, e.g. `info` or `anchorage=debug` (also RUST_LOG)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand parent; and __fish_seen_subcommand_from remove" -l log-format -d 'Log lines as text, or as JSON objects one per line (timestamp, level, target, fields) for a log collector' -r -f -a "text\t'Human-readable lines'
json\t'One JSON object per line'"
complete -c anchorage -n "__fish_anchorage_using_subcommand parent; and __fish_seen_subcommand_from remove" -l server -d 'Run `ca` and `roa` commands against this `serve` admin API (https://HOST:PORT) instead of a local data directory' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand parent; and __fish_seen_subcommand_from remove" -l token -d 'The API token for --server' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand parent; and __fish_seen_subcommand_from remove" -l server-ca -d 'Also trust this PEM certificate for --server (e.g. DIR/tls/api.crt)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand parent; and __fish_seen_subcommand_from remove" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c anchorage -n "__fish_anchorage_using_subcommand parent; and __fish_seen_subcommand_from help" -f -a "request" -d 'Write the RFC 8183 child request for local CA HANDLE (to send to the parent)'
complete -c anchorage -n "__fish_anchorage_using_subcommand parent; and __fish_seen_subcommand_from help" -f -a "add" -d 'Import the parent\'s response: HANDLE becomes its child, and is created and certified by the first sync'
complete -c anchorage -n "__fish_anchorage_using_subcommand parent; and __fish_seen_subcommand_from help" -f -a "sync" -d 'Sync with the remote parent(s): entitlements, certificate, shrinking'
complete -c anchorage -n "__fish_anchorage_using_subcommand parent; and __fish_seen_subcommand_from help" -f -a "list" -d 'List remote parents and their last sync'
complete -c anchorage -n "__fish_anchorage_using_subcommand parent; and __fish_seen_subcommand_from help" -f -a "remove" -d 'Remove the remote parent of local CA HANDLE (it dropped the CA): the CA and everything it published are withdrawn'
complete -c anchorage -n "__fish_anchorage_using_subcommand parent; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c anchorage -n "__fish_anchorage_using_subcommand repository; and not __fish_seen_subcommand_from request add show remove help" -l data-dir -d 'The data directory (database, keys, rsync tree, TAL)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand repository; and not __fish_seen_subcommand_from request add show remove help" -l database -d 'The store: a PostgreSQL connection string (`postgres://USER@HOST/DB` or `host=… dbname=…`) instead of the SQLite file in the data directory. `init` records it in DIR/database.url for later commands' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand repository; and not __fish_seen_subcommand_from request add show remove help" -l now -d 'Pretend the current time is this RFC 3339 time (for rehearsing reissue schedules on a copy of a data dir; never in production)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand repository; and not __fish_seen_subcommand_from request add show remove help" -l log -d 'Log filter, e.g. `info` or `anchorage=debug` (also RUST_LOG)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand repository; and not __fish_seen_subcommand_from request add show remove help" -l log-format -d 'Log lines as text, or as JSON objects one per line (timestamp, level, target, fields) for a log collector' -r -f -a "text\t'Human-readable lines'
json\t'One JSON object per line'"
complete -c anchorage -n "__fish_anchorage_using_subcommand repository; and not __fish_seen_subcommand_from request add show remove help" -l server -d 'Run `ca` and `roa` commands against this `serve` admin API (https://HOST:PORT) instead of a local data directory' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand repository; and not __fish_seen_subcommand_from request add show remove help" -l token -d 'The API token for --server' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand repository; and not __fish_seen_subcommand_from request add show remove help" -l server-ca -d 'Also trust this PEM certificate for --server (e.g. DIR/tls/api.crt)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand repository; and not __fish_seen_subcommand_from request add show remove help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c anchorage -n "__fish_anchorage_using_subcommand repository; and not __fish_seen_subcommand_from request add show remove help" -f -a "request" -d 'Write the RFC 8183 publisher request (to send to the repository)'
complete -c anchorage -n "__fish_anchorage_using_subcommand repository; and not __fish_seen_subcommand_from request add show remove help" -f -a "add" -d 'Import the repository\'s response: CAs under remote parents publish there'
complete -c anchorage -n "__fish_anchorage_using_subcommand repository; and not __fish_seen_subcommand_from request add show remove help" -f -a "show" -d 'Show the remote repository and how the last push to it went'
complete -c anchorage -n "__fish_anchorage_using_subcommand repository; and not __fish_seen_subcommand_from request add show remove help" -f -a "remove" -d 'Remove the remote repository (after its CAs\' parents)'
complete -c anchorage -n "__fish_anchorage_using_subcommand repository; and not __fish_seen_subcommand_from request add show remove help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c anchorage -n "__fish_anchorage_using_subcommand repository; and __fish_seen_subcommand_from request" -l output -d 'Where to write the `<publisher_request/>` (default: stdout)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand repository; and __fish_seen_subcommand_from request" -l data-dir -d 'The data directory (database, keys, rsync tree, TAL)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand repository; and __fish_seen_subcommand_from request" -l database -d 'The store: a PostgreSQL connection string (`postgres://USER@HOST/DB` or `host=… dbname=…`) instead of the SQLite file in the data directory. `init` records it in DIR/database.url for later commands' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand repository; and __fish_seen_subcommand_from request" -l now -d 'Pretend the current time is this RFC 3339 time (for rehearsing reissue schedules on a copy of a data dir; never in production)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand repository; and __fish_seen_subcommand_from request" -l log -d 'Log filter, e.g. `info` or `anchorage=debug` (also RUST_LOG)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand repository; and __fish_seen_subcommand_from request" -l log-format -d 'Log lines as text, or as JSON objects one per line (timestamp, level, target, fields) for a log collector' -r -f -a "text\t'Human-readable lines'
json\t'One JSON object per line'"
complete -c anchorage -n "__fish_anchorage_using_subcommand repository; and __fish_seen_subcommand_from request" -l server -d 'Run `ca` and `roa` commands against this `serve` admin API (https://HOST:PORT) instead of a local data directory' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand repository; and __fish_seen_subcommand_from request" -l token -d 'The API token for --server' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand repository; and __fish_seen_subcommand_from request" -l server-ca -d 'Also trust this PEM certificate for --server (e.g. DIR/tls/api.crt)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand repository; and __fish_seen_subcommand_from request" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c anchorage -n "__fish_anchorage_using_subcommand repository; and __fish_seen_subcommand_from add" -l response -d 'The repository\'s `<repository_response/>` XML' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand repository; and __fish_seen_subcommand_from add" -l data-dir -d 'The data directory (database, keys, rsync tree, TAL)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand repository; and __fish_seen_subcommand_from add" -l database -d 'The store: a PostgreSQL connection string (`postgres://USER@HOST/DB` or `host=… dbname=…`) instead of the SQLite file in the data directory. `init` records it in DIR/database.url for later commands' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand repository; and __fish_seen_subcommand_from add" -l now -d 'Pretend the current time is this RFC 3339 time (for rehearsing reissue schedules on a copy of a data dir; never in production)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand repository; and __fish_seen_subcommand_from add" -l log -d 'Log filter, e.g. `info` or `anchorage=debug` (also RUST_LOG)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand repository; and __fish_seen_subcommand_from add" -l log-format -d 'Log lines as text, or as JSON objects one per line (timestamp, level, target, fields) for a log collector' -r -f -a "text\t'Human-readable lines'
json\t'One JSON object per line'"
complete -c anchorage -n "__fish_anchorage_using_subcommand repository; and __fish_seen_subcommand_from add" -l server -d 'Run `ca` and `roa` commands against this `serve` admin API (https://HOST:PORT) instead of a local data directory' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand repository; and __fish_seen_subcommand_from add" -l token -d 'The API token for --server' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand repository; and __fish_seen_subcommand_from add" -l server-ca -d 'Also trust this PEM certificate for --server (e.g. DIR/tls/api.crt)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand repository; and __fish_seen_subcommand_from add" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c anchorage -n "__fish_anchorage_using_subcommand repository; and __fish_seen_subcommand_from show" -l format -d 'Output format' -r -f -a "text\t'For people'
json\t'For scripts'"
complete -c anchorage -n "__fish_anchorage_using_subcommand repository; and __fish_seen_subcommand_from show" -l data-dir -d 'The data directory (database, keys, rsync tree, TAL)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand repository; and __fish_seen_subcommand_from show" -l database -d 'The store: a PostgreSQL connection string (`postgres://USER@HOST/DB` or `host=… dbname=…`) instead of the SQLite file in the data directory. `init` records it in DIR/database.url for later commands' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand repository; and __fish_seen_subcommand_from show" -l now -d 'Pretend the current time is this RFC 3339 time (for rehearsing reissue schedules on a copy of a data dir; never in production)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand repository; and __fish_seen_subcommand_from show" -l log -d 'Log filter, e.g. `info` or `anchorage=debug` (also RUST_LOG)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand repository; and __fish_seen_subcommand_from show" -l log-format -d 'Log lines as text, or as JSON objects one per line (timestamp, level, target, fields) for a log collector' -r -f -a "text\t'Human-readable lines'
json\t'One JSON object per line'"
complete -c anchorage -n "__fish_anchorage_using_subcommand repository; and __fish_seen_subcommand_from show" -l server -d 'Run `ca` and `roa` commands against this `serve` admin API (https://HOST:PORT) instead of a local data directory' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand repository; and __fish_seen_subcommand_from show" -l token -d 'The API token for --server' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand repository; and __fish_seen_subcommand_from show" -l server-ca -d 'Also trust this PEM certificate for --server (e.g. DIR/tls/api.crt)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand repository; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c anchorage -n "__fish_anchorage_using_subcommand repository; and __fish_seen_subcommand_from remove" -l data-dir -d 'The data directory (database, keys, rsync tree, TAL)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand repository; and __fish_seen_subcommand_from remove" -l database -d 'The store: a PostgreSQL connection string (`postgres://USER@HOST/DB` or `host=… dbname=…`) instead of the SQLite file in the data directory. `init` records it in DIR/database.url for later commands' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand repository; and __fish_seen_subcommand_from remove" -l now -d 'Pretend the current time is this RFC 3339 time (for rehearsing reissue schedules on a copy of a data dir; never in production)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand repository; and __fish_seen_subcommand_from remove" -l log -d 'Log filter, e.g. `info` or `anchorage=debug` (also RUST_LOG)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand repository; and __fish_seen_subcommand_from remove" -l log-format -d 'Log lines as text, or as JSON objects one per line (timestamp, level, target, fields) for a log collector' -r -f -a "text\t'Human-readable lines'
json\t'One JSON object per line'"
complete -c anchorage -n "__fish_anchorage_using_subcommand repository; and __fish_seen_subcommand_from remove" -l server -d 'Run `ca` and `roa` commands against this `serve` admin API (https://HOST:PORT) instead of a local data directory' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand repository; and __fish_seen_subcommand_from remove" -l token -d 'The API token for --server' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand repository; and __fish_seen_subcommand_from remove" -l server-ca -d 'Also trust this PEM certificate for --server (e.g. DIR/tls/api.crt)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand repository; and __fish_seen_subcommand_from remove" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c anchorage -n "__fish_anchorage_using_subcommand repository; and __fish_seen_subcommand_from help" -f -a "request" -d 'Write the RFC 8183 publisher request (to send to the repository)'
complete -c anchorage -n "__fish_anchorage_using_subcommand repository; and __fish_seen_subcommand_from help" -f -a "add" -d 'Import the repository\'s response: CAs under remote parents publish there'
complete -c anchorage -n "__fish_anchorage_using_subcommand repository; and __fish_seen_subcommand_from help" -f -a "show" -d 'Show the remote repository and how the last push to it went'
complete -c anchorage -n "__fish_anchorage_using_subcommand repository; and __fish_seen_subcommand_from help" -f -a "remove" -d 'Remove the remote repository (after its CAs\' parents)'
complete -c anchorage -n "__fish_anchorage_using_subcommand repository; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c anchorage -n "__fish_anchorage_using_subcommand migrate" -l from -d 'The data directory whose SQLite store moves (default: --data-dir)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand migrate" -l to -d 'The empty PostgreSQL database it moves into (postgres://USER@HOST/DB)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand migrate" -l data-dir -d 'The data directory (database, keys, rsync tree, TAL)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand migrate" -l database -d 'The store: a PostgreSQL connection string (`postgres://USER@HOST/DB` or `host=… dbname=…`) instead of the SQLite file in the data directory. `init` records it in DIR/database.url for later commands' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand migrate" -l now -d 'Pretend the current time is this RFC 3339 time (for rehearsing reissue schedules on a copy of a data dir; never in production)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand migrate" -l log -d 'Log filter, e.g. `info` or `anchorage=debug` (also RUST_LOG)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand migrate" -l log-format -d 'Log lines as text, or as JSON objects one per line (timestamp, level, target, fields) for a log collector' -r -f -a "text\t'Human-readable lines'
json\t'One JSON object per line'"
complete -c anchorage -n "__fish_anchorage_using_subcommand migrate" -l server -d 'Run `ca` and `roa` commands against this `serve` admin API (https://HOST:PORT) instead of a local data directory' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand migrate" -l token -d 'The API token for --server' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand migrate" -l server-ca -d 'Also trust this PEM certificate for --server (e.g. DIR/tls/api.crt)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand migrate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c anchorage -n "__fish_anchorage_using_subcommand publish" -l format -d 'Output format' -r -f -a "text\t'For people'
json\t'For scripts'"
complete -c anchorage -n "__fish_anchorage_using_subcommand publish" -l data-dir -d 'The data directory (database, keys, rsync tree, TAL)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand publish" -l database -d 'The store: a PostgreSQL connection string (`postgres://USER@HOST/DB` or `host=… dbname=…`) instead of the SQLite file in the data directory. `init` records it in DIR/database.url for later commands' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand publish" -l now -d 'Pretend the current time is this RFC 3339 time (for rehearsing reissue schedules on a copy of a data dir; never in production)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand publish" -l log -d 'Log filter, e.g. `info` or `anchorage=debug` (also RUST_LOG)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand publish" -l log-format -d 'Log lines as text, or as JSON objects one per line (timestamp, level, target, fields) for a log collector' -r -f -a "text\t'Human-readable lines'
json\t'One JSON object per line'"
complete -c anchorage -n "__fish_anchorage_using_subcommand publish" -l server -d 'Run `ca` and `roa` commands against this `serve` admin API (https://HOST:PORT) instead of a local data directory' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand publish" -l token -d 'The API token for --server' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand publish" -l server-ca -d 'Also trust this PEM certificate for --server (e.g. DIR/tls/api.crt)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand publish" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c anchorage -n "__fish_anchorage_using_subcommand backup" -s o -l output -d 'The backup file to write (replaced atomically; mode 0600)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand backup" -l format -d 'Output format' -r -f -a "text\t'For people'
json\t'For scripts'"
complete -c anchorage -n "__fish_anchorage_using_subcommand backup" -l data-dir -d 'The data directory (database, keys, rsync tree, TAL)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand backup" -l database -d 'The store: a PostgreSQL connection string (`postgres://USER@HOST/DB` or `host=… dbname=…`) instead of the SQLite file in the data directory. `init` records it in DIR/database.url for later commands' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand backup" -l now -d 'Pretend the current time is this RFC 3339 time (for rehearsing reissue schedules on a copy of a data dir; never in production)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand backup" -l log -d 'Log filter, e.g. `info` or `anchorage=debug` (also RUST_LOG)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand backup" -l log-format -d 'Log lines as text, or as JSON objects one per line (timestamp, level, target, fields) for a log collector' -r -f -a "text\t'Human-readable lines'
json\t'One JSON object per line'"
complete -c anchorage -n "__fish_anchorage_using_subcommand backup" -l server -d 'Run `ca` and `roa` commands against this `serve` admin API (https://HOST:PORT) instead of a local data directory' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand backup" -l token -d 'The API token for --server' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand backup" -l server-ca -d 'Also trust this PEM certificate for --server (e.g. DIR/tls/api.crt)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand backup" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c anchorage -n "__fish_anchorage_using_subcommand restore" -l format -d 'Output format' -r -f -a "text\t'For people'
json\t'For scripts'"
complete -c anchorage -n "__fish_anchorage_using_subcommand restore" -l data-dir -d 'The data directory (database, keys, rsync tree, TAL)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand restore" -l database -d 'The store: a PostgreSQL connection string (`postgres://USER@HOST/DB` or `host=… dbname=…`) instead of the SQLite file in the data directory. `init` records it in DIR/database.url for later commands' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand restore" -l now -d 'Pretend the current time is this RFC 3339 time (for rehearsing reissue schedules on a copy of a data dir; never in production)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand restore" -l log -d 'Log filter, e.g. `info` or `anchorage=debug` (also RUST_LOG)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand restore" -l log-format -d 'Log lines as text, or as JSON objects one per line (timestamp, level, target, fields) for a log collector' -r -f -a "text\t'Human-readable lines'
json\t'One JSON object per line'"
complete -c anchorage -n "__fish_anchorage_using_subcommand restore" -l server -d 'Run `ca` and `roa` commands against this `serve` admin API (https://HOST:PORT) instead of a local data directory' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand restore" -l token -d 'The API token for --server' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand restore" -l server-ca -d 'Also trust this PEM certificate for --server (e.g. DIR/tls/api.crt)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand restore" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c anchorage -n "__fish_anchorage_using_subcommand status" -l format -d 'Output format' -r -f -a "text\t'For people'
json\t'For scripts'"
complete -c anchorage -n "__fish_anchorage_using_subcommand status" -l data-dir -d 'The data directory (database, keys, rsync tree, TAL)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand status" -l database -d 'The store: a PostgreSQL connection string (`postgres://USER@HOST/DB` or `host=… dbname=…`) instead of the SQLite file in the data directory. `init` records it in DIR/database.url for later commands' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand status" -l now -d 'Pretend the current time is this RFC 3339 time (for rehearsing reissue schedules on a copy of a data dir; never in production)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand status" -l log -d 'Log filter, e.g. `info` or `anchorage=debug` (also RUST_LOG)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand status" -l log-format -d 'Log lines as text, or as JSON objects one per line (timestamp, level, target, fields) for a log collector' -r -f -a "text\t'Human-readable lines'
json\t'One JSON object per line'"
complete -c anchorage -n "__fish_anchorage_using_subcommand status" -l server -d 'Run `ca` and `roa` commands against this `serve` admin API (https://HOST:PORT) instead of a local data directory' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand status" -l token -d 'The API token for --server' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand status" -l server-ca -d 'Also trust this PEM certificate for --server (e.g. DIR/tls/api.crt)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand status" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c anchorage -n "__fish_anchorage_using_subcommand serve" -l config -d 'Configuration file (TOML); command-line options override it' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand serve" -l http-listen -d 'Address and port of the HTTP(S) server [default: 127.0.0.1:8080]' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand serve" -l rsync-listen -d 'Address and port of rsyncd [default: 0.0.0.0:873]' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand serve" -l tls-cert -d 'TLS certificate chain (PEM); HTTPS when given with --tls-key' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand serve" -l tls-key -d 'TLS private key (PEM)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand serve" -l rsync-program -d 'The rsync program [default: rsync]' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand serve" -l rtr-listen -d 'Address and port of the RTR cache [default: none, no RTR]' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand serve" -l rtr-max-version -d 'The highest RTR version offered: 2 (draft-ietf-sidrops-8210bis, with ASPA), 1 (RFC 8210) or 0 (RFC 6810) [default: 1]' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand serve" -l api-listen -d 'Address and port of the admin API, over TLS [default: none, no API]' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand serve" -l data-dir -d 'The data directory (database, keys, rsync tree, TAL)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand serve" -l database -d 'The store: a PostgreSQL connection string (`postgres://USER@HOST/DB` or `host=… dbname=…`) instead of the SQLite file in the data directory. `init` records it in DIR/database.url for later commands' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand serve" -l now -d 'Pretend the current time is this RFC 3339 time (for rehearsing reissue schedules on a copy of a data dir; never in production)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand serve" -l log -d 'Log filter, e.g. `info` or `anchorage=debug` (also RUST_LOG)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand serve" -l log-format -d 'Log lines as text, or as JSON objects one per line (timestamp, level, target, fields) for a log collector' -r -f -a "text\t'Human-readable lines'
json\t'One JSON object per line'"
complete -c anchorage -n "__fish_anchorage_using_subcommand serve" -l server -d 'Run `ca` and `roa` commands against this `serve` admin API (https://HOST:PORT) instead of a local data directory' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand serve" -l token -d 'The API token for --server' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand serve" -l server-ca -d 'Also trust this PEM certificate for --server (e.g. DIR/tls/api.crt)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand serve" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c anchorage -n "__fish_anchorage_using_subcommand rsync-readers" -l name -d 'The name the report goes under, one per daemon: DIR/rsync/readers/NAME' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand rsync-readers" -l data-dir -d 'The data directory (database, keys, rsync tree, TAL)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand rsync-readers" -l database -d 'The store: a PostgreSQL connection string (`postgres://USER@HOST/DB` or `host=… dbname=…`) instead of the SQLite file in the data directory. `init` records it in DIR/database.url for later commands' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand rsync-readers" -l now -d 'Pretend the current time is this RFC 3339 time (for rehearsing reissue schedules on a copy of a data dir; never in production)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand rsync-readers" -l log -d 'Log filter, e.g. `info` or `anchorage=debug` (also RUST_LOG)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand rsync-readers" -l log-format -d 'Log lines as text, or as JSON objects one per line (timestamp, level, target, fields) for a log collector' -r -f -a "text\t'Human-readable lines'
json\t'One JSON object per line'"
complete -c anchorage -n "__fish_anchorage_using_subcommand rsync-readers" -l server -d 'Run `ca` and `roa` commands against this `serve` admin API (https://HOST:PORT) instead of a local data directory' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand rsync-readers" -l token -d 'The API token for --server' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand rsync-readers" -l server-ca -d 'Also trust this PEM certificate for --server (e.g. DIR/tls/api.crt)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand rsync-readers" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c anchorage -n "__fish_anchorage_using_subcommand validate" -l tal -d 'The TAL' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand validate" -l ca-cert -d 'Also trust the CA certificates in this PEM file for HTTPS (RRDP servers with a private CA); the system\'s trust store is always used' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand validate" -l format -d 'Output format: rpki-client\'s CSV or JSON' -r -f -a "csv\t'rpki-client\'s CSV: ASN,IP Prefix,Max Length,Trust Anchor,Expires'
json\t'JSON: metadata, roas (rpki-client\'s fields) and rejected objects'"
complete -c anchorage -n "__fish_anchorage_using_subcommand validate" -l output -d 'Write the VRPs here instead of standard output' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand validate" -l cache -d 'The local cache of fetched files and of the manifests validated before [default: $XDG_CACHE_HOME/anchorage/validate, or ~/.cache/anchorage/validate]' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand validate" -l rsync-program -d 'The rsync program (e.g. a wrapper adding --port)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand validate" -l at -d 'Validate as of this time (RFC 3339, e.g. 2027-01-31T12:00:00Z) instead of now: validity periods and every manifest\'s and CRL\'s nextUpdate are compared with it. What is fetched is what is published now' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand validate" -l data-dir -d 'The data directory (database, keys, rsync tree, TAL)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand validate" -l database -d 'The store: a PostgreSQL connection string (`postgres://USER@HOST/DB` or `host=… dbname=…`) instead of the SQLite file in the data directory. `init` records it in DIR/database.url for later commands' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand validate" -l now -d 'Pretend the current time is this RFC 3339 time (for rehearsing reissue schedules on a copy of a data dir; never in production)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand validate" -l log -d 'Log filter, e.g. `info` or `anchorage=debug` (also RUST_LOG)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand validate" -l log-format -d 'Log lines as text, or as JSON objects one per line (timestamp, level, target, fields) for a log collector' -r -f -a "text\t'Human-readable lines'
json\t'One JSON object per line'"
complete -c anchorage -n "__fish_anchorage_using_subcommand validate" -l server -d 'Run `ca` and `roa` commands against this `serve` admin API (https://HOST:PORT) instead of a local data directory' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand validate" -l token -d 'The API token for --server' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand validate" -l server-ca -d 'Also trust this PEM certificate for --server (e.g. DIR/tls/api.crt)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand validate" -l rsync-only -d 'Fetch over rsync only (by default RRDP first, rsync as fallback)'
complete -c anchorage -n "__fish_anchorage_using_subcommand validate" -l no-fetch -d 'Fetch nothing: validate what an earlier run left in the cache (its rsync copies), like `rpki-client -n`'
complete -c anchorage -n "__fish_anchorage_using_subcommand validate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c anchorage -n "__fish_anchorage_using_subcommand bench" -l scale -d 'How big a repository to build' -r -f -a "small\t'20 CAs x 10 ROAs, a 100-change burst: under two minutes, run in CI'
rir\t'200 CAs x 20 ROAs for the issuance rate, a 1,000-change burst, and a 50,000-CA repository with 1,000,000 prefixes for the scale figures: built once into --fixture-dir (hours of key generation, resumed where it stopped) and reused'"
complete -c anchorage -n "__fish_anchorage_using_subcommand bench" -l output -d 'Also write the report as JSON here' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand bench" -l keep -d 'Build the repository here (and keep it) instead of a temporary directory' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand bench" -l fixture-dir -d 'Where the validation repository is built once and reused' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand bench" -l only -d 'Run only these parts (repeatable) [default: all]' -r -f -a "issuance\t'Issuance, burst, one change, ROA change to router, publication'
validation\t'The bundled validator vs rpki-client -n on a large repository'
rtr\t'An RTR full reset of 1,000,000 VRPs'
bgp\t'RFC 9319 analysis: 1,000,000 announcements, a 1,000-ROA dry run'
scale\t'The scale repository (50,000 CAs, 1,000,000 prefixes at rir): creation, sizes, one change, publication, refresh, serve\'s RSS'
concurrency\t'serve\'s admin API under 20 concurrent tenants, beside a 1,000-ROA batch, with a remote parent that never answers'
keyroll\t'A key rollover of a CA with 10,000 ROA payloads, against the signing floor of what it reissues'
database\t'The same ROA-change workload on SQLite and on PostgreSQL (a server the bench starts), side by side'
refresh\t'The full manifest/CRL refresh cycle of the scale repository (built by `scale` first), every point once, with trees and RRDP serials written and old trees removed as serve does beside an rsync daemon: half an hour at 50,000 CAs, so only when named'"
complete -c anchorage -n "__fish_anchorage_using_subcommand bench" -l burst -d 'ROA changes in the burst [default: 100 small, 1,000 rir]' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand bench" -l build-minutes -d 'Build the scale repository for at most this many minutes, then measure what exists (the next run goes on building)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand bench" -l cas -d 'CAs of the scale repository [default: 200 small, 50,000 rir], so the growth of each scale figure can be measured at small N' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand bench" -l data-dir -d 'The data directory (database, keys, rsync tree, TAL)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand bench" -l database -d 'The store: a PostgreSQL connection string (`postgres://USER@HOST/DB` or `host=… dbname=…`) instead of the SQLite file in the data directory. `init` records it in DIR/database.url for later commands' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand bench" -l now -d 'Pretend the current time is this RFC 3339 time (for rehearsing reissue schedules on a copy of a data dir; never in production)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand bench" -l log -d 'Log filter, e.g. `info` or `anchorage=debug` (also RUST_LOG)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand bench" -l log-format -d 'Log lines as text, or as JSON objects one per line (timestamp, level, target, fields) for a log collector' -r -f -a "text\t'Human-readable lines'
json\t'One JSON object per line'"
complete -c anchorage -n "__fish_anchorage_using_subcommand bench" -l server -d 'Run `ca` and `roa` commands against this `serve` admin API (https://HOST:PORT) instead of a local data directory' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand bench" -l token -d 'The API token for --server' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand bench" -l server-ca -d 'Also trust this PEM certificate for --server (e.g. DIR/tls/api.crt)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand bench" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c anchorage -n "__fish_anchorage_using_subcommand soak" -l minutes -d 'How long to run, in minutes' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand soak" -l kill-every -d 'Kill serve with SIGKILL every this many seconds (0: never)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand soak" -l clients -d 'API clients, one CA each' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand soak" -l rate -d 'ROA changes per second, all clients together' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand soak" -l routers -d 'RTR sessions held open' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand soak" -l work -d 'Where to make the data directory' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand soak" -l output -d 'Also write the report as JSON here' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand soak" -l data-dir -d 'The data directory (database, keys, rsync tree, TAL)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand soak" -l database -d 'The store: a PostgreSQL connection string (`postgres://USER@HOST/DB` or `host=… dbname=…`) instead of the SQLite file in the data directory. `init` records it in DIR/database.url for later commands' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand soak" -l now -d 'Pretend the current time is this RFC 3339 time (for rehearsing reissue schedules on a copy of a data dir; never in production)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand soak" -l log -d 'Log filter, e.g. `info` or `anchorage=debug` (also RUST_LOG)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand soak" -l log-format -d 'Log lines as text, or as JSON objects one per line (timestamp, level, target, fields) for a log collector' -r -f -a "text\t'Human-readable lines'
json\t'One JSON object per line'"
complete -c anchorage -n "__fish_anchorage_using_subcommand soak" -l server -d 'Run `ca` and `roa` commands against this `serve` admin API (https://HOST:PORT) instead of a local data directory' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand soak" -l token -d 'The API token for --server' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand soak" -l server-ca -d 'Also trust this PEM certificate for --server (e.g. DIR/tls/api.crt)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand soak" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c anchorage -n "__fish_anchorage_using_subcommand rtr-bench-cache" -l vrps -d 'How many VRPs' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand rtr-bench-cache" -l data-dir -d 'The data directory (database, keys, rsync tree, TAL)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand rtr-bench-cache" -l database -d 'The store: a PostgreSQL connection string (`postgres://USER@HOST/DB` or `host=… dbname=…`) instead of the SQLite file in the data directory. `init` records it in DIR/database.url for later commands' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand rtr-bench-cache" -l now -d 'Pretend the current time is this RFC 3339 time (for rehearsing reissue schedules on a copy of a data dir; never in production)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand rtr-bench-cache" -l log -d 'Log filter, e.g. `info` or `anchorage=debug` (also RUST_LOG)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand rtr-bench-cache" -l log-format -d 'Log lines as text, or as JSON objects one per line (timestamp, level, target, fields) for a log collector' -r -f -a "text\t'Human-readable lines'
json\t'One JSON object per line'"
complete -c anchorage -n "__fish_anchorage_using_subcommand rtr-bench-cache" -l server -d 'Run `ca` and `roa` commands against this `serve` admin API (https://HOST:PORT) instead of a local data directory' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand rtr-bench-cache" -l token -d 'The API token for --server' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand rtr-bench-cache" -l server-ca -d 'Also trust this PEM certificate for --server (e.g. DIR/tls/api.crt)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand rtr-bench-cache" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c anchorage -n "__fish_anchorage_using_subcommand hsm-bench-sign" -l count -d 'How many signatures' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand hsm-bench-sign" -l data-dir -d 'The data directory (database, keys, rsync tree, TAL)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand hsm-bench-sign" -l database -d 'The store: a PostgreSQL connection string (`postgres://USER@HOST/DB` or `host=… dbname=…`) instead of the SQLite file in the data directory. `init` records it in DIR/database.url for later commands' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand hsm-bench-sign" -l now -d 'Pretend the current time is this RFC 3339 time (for rehearsing reissue schedules on a copy of a data dir; never in production)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand hsm-bench-sign" -l log -d 'Log filter, e.g. `info` or `anchorage=debug` (also RUST_LOG)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand hsm-bench-sign" -l log-format -d 'Log lines as text, or as JSON objects one per line (timestamp, level, target, fields) for a log collector' -r -f -a "text\t'Human-readable lines'
json\t'One JSON object per line'"
complete -c anchorage -n "__fish_anchorage_using_subcommand hsm-bench-sign" -l server -d 'Run `ca` and `roa` commands against this `serve` admin API (https://HOST:PORT) instead of a local data directory' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand hsm-bench-sign" -l token -d 'The API token for --server' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand hsm-bench-sign" -l server-ca -d 'Also trust this PEM certificate for --server (e.g. DIR/tls/api.crt)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand hsm-bench-sign" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c anchorage -n "__fish_anchorage_using_subcommand demo" -l keep -d 'Keep the data directory here instead of a temporary one' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand demo" -l data-dir -d 'The data directory (database, keys, rsync tree, TAL)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand demo" -l database -d 'The store: a PostgreSQL connection string (`postgres://USER@HOST/DB` or `host=… dbname=…`) instead of the SQLite file in the data directory. `init` records it in DIR/database.url for later commands' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand demo" -l now -d 'Pretend the current time is this RFC 3339 time (for rehearsing reissue schedules on a copy of a data dir; never in production)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand demo" -l log -d 'Log filter, e.g. `info` or `anchorage=debug` (also RUST_LOG)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand demo" -l log-format -d 'Log lines as text, or as JSON objects one per line (timestamp, level, target, fields) for a log collector' -r -f -a "text\t'Human-readable lines'
json\t'One JSON object per line'"
complete -c anchorage -n "__fish_anchorage_using_subcommand demo" -l server -d 'Run `ca` and `roa` commands against this `serve` admin API (https://HOST:PORT) instead of a local data directory' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand demo" -l token -d 'The API token for --server' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand demo" -l server-ca -d 'Also trust this PEM certificate for --server (e.g. DIR/tls/api.crt)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand demo" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c anchorage -n "__fish_anchorage_using_subcommand completions" -l data-dir -d 'The data directory (database, keys, rsync tree, TAL)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand completions" -l database -d 'The store: a PostgreSQL connection string (`postgres://USER@HOST/DB` or `host=… dbname=…`) instead of the SQLite file in the data directory. `init` records it in DIR/database.url for later commands' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand completions" -l now -d 'Pretend the current time is this RFC 3339 time (for rehearsing reissue schedules on a copy of a data dir; never in production)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand completions" -l log -d 'Log filter, e.g. `info` or `anchorage=debug` (also RUST_LOG)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand completions" -l log-format -d 'Log lines as text, or as JSON objects one per line (timestamp, level, target, fields) for a log collector' -r -f -a "text\t'Human-readable lines'
json\t'One JSON object per line'"
complete -c anchorage -n "__fish_anchorage_using_subcommand completions" -l server -d 'Run `ca` and `roa` commands against this `serve` admin API (https://HOST:PORT) instead of a local data directory' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand completions" -l token -d 'The API token for --server' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand completions" -l server-ca -d 'Also trust this PEM certificate for --server (e.g. DIR/tls/api.crt)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c anchorage -n "__fish_anchorage_using_subcommand manpages" -l data-dir -d 'The data directory (database, keys, rsync tree, TAL)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand manpages" -l database -d 'The store: a PostgreSQL connection string (`postgres://USER@HOST/DB` or `host=… dbname=…`) instead of the SQLite file in the data directory. `init` records it in DIR/database.url for later commands' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand manpages" -l now -d 'Pretend the current time is this RFC 3339 time (for rehearsing reissue schedules on a copy of a data dir; never in production)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand manpages" -l log -d 'Log filter, e.g. `info` or `anchorage=debug` (also RUST_LOG)' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand manpages" -l log-format -d 'Log lines as text, or as JSON objects one per line (timestamp, level, target, fields) for a log collector' -r -f -a "text\t'Human-readable lines'
json\t'One JSON object per line'"
complete -c anchorage -n "__fish_anchorage_using_subcommand manpages" -l server -d 'Run `ca` and `roa` commands against this `serve` admin API (https://HOST:PORT) instead of a local data directory' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand manpages" -l token -d 'The API token for --server' -r
complete -c anchorage -n "__fish_anchorage_using_subcommand manpages" -l server-ca -d 'Also trust this PEM certificate for --server (e.g. DIR/tls/api.crt)' -r -F
complete -c anchorage -n "__fish_anchorage_using_subcommand manpages" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c anchorage -n "__fish_anchorage_using_subcommand help; and not __fish_seen_subcommand_from init ca roa aspa router-cert ta token keys bgp child publisher parent repository migrate publish backup restore status serve rsync-readers validate bench soak rtr-bench-cache hsm-bench-sign demo completions manpages help" -f -a "init" -d 'Create the database, trust anchor, TAL and online CA'
complete -c anchorage -n "__fish_anchorage_using_subcommand help; and not __fish_seen_subcommand_from init ca roa aspa router-cert ta token keys bgp child publisher parent repository migrate publish backup restore status serve rsync-readers validate bench soak rtr-bench-cache hsm-bench-sign demo completions manpages help" -f -a "ca" -d 'Manage CAs'
complete -c anchorage -n "__fish_anchorage_using_subcommand help; and not __fish_seen_subcommand_from init ca roa aspa router-cert ta token keys bgp child publisher parent repository migrate publish backup restore status serve rsync-readers validate bench soak rtr-bench-cache hsm-bench-sign demo completions manpages help" -f -a "roa" -d 'Manage ROAs'
complete -c anchorage -n "__fish_anchorage_using_subcommand help; and not __fish_seen_subcommand_from init ca roa aspa router-cert ta token keys bgp child publisher parent repository migrate publish backup restore status serve rsync-readers validate bench soak rtr-bench-cache hsm-bench-sign demo completions manpages help" -f -a "aspa" -d 'Manage ASPAs (draft-ietf-sidrops-aspa-profile): one per customer AS'
complete -c anchorage -n "__fish_anchorage_using_subcommand help; and not __fish_seen_subcommand_from init ca roa aspa router-cert ta token keys bgp child publisher parent repository migrate publish backup restore status serve rsync-readers validate bench soak rtr-bench-cache hsm-bench-sign demo completions manpages help" -f -a "router-cert" -d 'BGPsec router certificates (RFC 8209): certify router keys of a CA'
complete -c anchorage -n "__fish_anchorage_using_subcommand help; and not __fish_seen_subcommand_from init ca roa aspa router-cert ta token keys bgp child publisher parent repository migrate publish backup restore status serve rsync-readers validate bench soak rtr-bench-cache hsm-bench-sign demo completions manpages help" -f -a "ta" -d 'The trust anchor\'s key rollover (RFC 9691)'
complete -c anchorage -n "__fish_anchorage_using_subcommand help; and not __fish_seen_subcommand_from init ca roa aspa router-cert ta token keys bgp child publisher parent repository migrate publish backup restore status serve rsync-readers validate bench soak rtr-bench-cache hsm-bench-sign demo completions manpages help" -f -a "token" -d 'Manage admin API tokens (locally, on the data directory)'
complete -c anchorage -n "__fish_anchorage_using_subcommand help; and not __fish_seen_subcommand_from init ca roa aspa router-cert ta token keys bgp child publisher parent repository migrate publish backup restore status serve rsync-readers validate bench soak rtr-bench-cache hsm-bench-sign demo completions manpages help" -f -a "keys" -d 'The keys inventory, and encrypting software keys at rest'
complete -c anchorage -n "__fish_anchorage_using_subcommand help; and not __fish_seen_subcommand_from init ca roa aspa router-cert ta token keys bgp child publisher parent repository migrate publish backup restore status serve rsync-readers validate bench soak rtr-bench-cache hsm-bench-sign demo completions manpages help" -f -a "bgp" -d 'BGP announcements for the admin API\'s RFC 9319 checks'
complete -c anchorage -n "__fish_anchorage_using_subcommand help; and not __fish_seen_subcommand_from init ca roa aspa router-cert ta token keys bgp child publisher parent repository migrate publish backup restore status serve rsync-readers validate bench soak rtr-bench-cache hsm-bench-sign demo completions manpages help" -f -a "child" -d 'Delegated child CAs that run their own CA software (RFC 8183, RFC 6492)'
complete -c anchorage -n "__fish_anchorage_using_subcommand help; and not __fish_seen_subcommand_from init ca roa aspa router-cert ta token keys bgp child publisher parent repository migrate publish backup restore status serve rsync-readers validate bench soak rtr-bench-cache hsm-bench-sign demo completions manpages help" -f -a "publisher" -d 'Publishers of the RFC 8181 publication server (RFC 8183, RFC 8181)'
complete -c anchorage -n "__fish_anchorage_using_subcommand help; and not __fish_seen_subcommand_from init ca roa aspa router-cert ta token keys bgp child publisher parent repository migrate publish backup restore status serve rsync-readers validate bench soak rtr-bench-cache hsm-bench-sign demo completions manpages help" -f -a "parent" -d 'Remote parents of local CAs (this instance as RFC 6492 child)'
complete -c anchorage -n "__fish_anchorage_using_subcommand help; and not __fish_seen_subcommand_from init ca roa aspa router-cert ta token keys bgp child publisher parent repository migrate publish backup restore status serve rsync-readers validate bench soak rtr-bench-cache hsm-bench-sign demo completions manpages help" -f -a "repository" -d 'The remote RFC 8181 repository this instance publishes at'
complete -c anchorage -n "__fish_anchorage_using_subcommand help; and not __fish_seen_subcommand_from init ca roa aspa router-cert ta token keys bgp child publisher parent repository migrate publish backup restore status serve rsync-readers validate bench soak rtr-bench-cache hsm-bench-sign demo completions manpages help" -f -a "migrate" -d 'Move a data directory\'s SQLite store into an empty PostgreSQL database, unchanged; later commands and serve use PostgreSQL'
complete -c anchorage -n "__fish_anchorage_using_subcommand help; and not __fish_seen_subcommand_from init ca roa aspa router-cert ta token keys bgp child publisher parent repository migrate publish backup restore status serve rsync-readers validate bench soak rtr-bench-cache hsm-bench-sign demo completions manpages help" -f -a "publish" -d 'Reissue whatever is due and write the rsync tree'
complete -c anchorage -n "__fish_anchorage_using_subcommand help; and not __fish_seen_subcommand_from init ca roa aspa router-cert ta token keys bgp child publisher parent repository migrate publish backup restore status serve rsync-readers validate bench soak rtr-bench-cache hsm-bench-sign demo completions manpages help" -f -a "backup" -d 'Write the data directory\'s state to one file, while it runs'
complete -c anchorage -n "__fish_anchorage_using_subcommand help; and not __fish_seen_subcommand_from init ca roa aspa router-cert ta token keys bgp child publisher parent repository migrate publish backup restore status serve rsync-readers validate bench soak rtr-bench-cache hsm-bench-sign demo completions manpages help" -f -a "restore" -d 'Make a new data directory (--data-dir) from a backup file and publish it, never reusing a manifest, CRL or RRDP number'
complete -c anchorage -n "__fish_anchorage_using_subcommand help; and not __fish_seen_subcommand_from init ca roa aspa router-cert ta token keys bgp child publisher parent repository migrate publish backup restore status serve rsync-readers validate bench soak rtr-bench-cache hsm-bench-sign demo completions manpages help" -f -a "status" -d 'The data directory\'s health: publication, overdue and expired objects, serve\'s last self-validation; exit status 1 on a problem'
complete -c anchorage -n "__fish_anchorage_using_subcommand help; and not __fish_seen_subcommand_from init ca roa aspa router-cert ta token keys bgp child publisher parent repository migrate publish backup restore status serve rsync-readers validate bench soak rtr-bench-cache hsm-bench-sign demo completions manpages help" -f -a "serve" -d 'Run the service: RRDP over HTTP(S), rsyncd, and the reissue scheduler'
complete -c anchorage -n "__fish_anchorage_using_subcommand help; and not __fish_seen_subcommand_from init ca roa aspa router-cert ta token keys bgp child publisher parent repository migrate publish backup restore status serve rsync-readers validate bench soak rtr-bench-cache hsm-bench-sign demo completions manpages help" -f -a "rsync-readers" -d 'Beside an rsync daemon that serves DIR/rsync/current out of the publishing process\'s view (another container or PID namespace, another machine): report which trees it is inside, until stopped'
complete -c anchorage -n "__fish_anchorage_using_subcommand help; and not __fish_seen_subcommand_from init ca roa aspa router-cert ta token keys bgp child publisher parent repository migrate publish backup restore status serve rsync-readers validate bench soak rtr-bench-cache hsm-bench-sign demo completions manpages help" -f -a "validate" -d 'Fetch and validate a repository from its TAL, as a relying party does'
complete -c anchorage -n "__fish_anchorage_using_subcommand help; and not __fish_seen_subcommand_from init ca roa aspa router-cert ta token keys bgp child publisher parent repository migrate publish backup restore status serve rsync-readers validate bench soak rtr-bench-cache hsm-bench-sign demo completions manpages help" -f -a "bench" -d 'Measure issuance and publication against the cryptographic limit'
complete -c anchorage -n "__fish_anchorage_using_subcommand help; and not __fish_seen_subcommand_from init ca roa aspa router-cert ta token keys bgp child publisher parent repository migrate publish backup restore status serve rsync-readers validate bench soak rtr-bench-cache hsm-bench-sign demo completions manpages help" -f -a "soak" -d 'Run serve under steady load (API, RTR, RRDP, rsync) with periodic SIGKILL, and report descriptors, memory, latency and lost changes'
complete -c anchorage -n "__fish_anchorage_using_subcommand help; and not __fish_seen_subcommand_from init ca roa aspa router-cert ta token keys bgp child publisher parent repository migrate publish backup restore status serve rsync-readers validate bench soak rtr-bench-cache hsm-bench-sign demo completions manpages help" -f -a "rtr-bench-cache" -d 'The RTR cache side of `bench` (serves synthetic VRPs; internal)'
complete -c anchorage -n "__fish_anchorage_using_subcommand help; and not __fish_seen_subcommand_from init ca roa aspa router-cert ta token keys bgp child publisher parent repository migrate publish backup restore status serve rsync-readers validate bench soak rtr-bench-cache hsm-bench-sign demo completions manpages help" -f -a "hsm-bench-sign" -d 'The PKCS#11 signing side of `bench` (internal)'
complete -c anchorage -n "__fish_anchorage_using_subcommand help; and not __fish_seen_subcommand_from init ca roa aspa router-cert ta token keys bgp child publisher parent repository migrate publish backup restore status serve rsync-readers validate bench soak rtr-bench-cache hsm-bench-sign demo completions manpages help" -f -a "demo" -d 'Build, publish and validate a small RIR hierarchy in a temporary directory'
complete -c anchorage -n "__fish_anchorage_using_subcommand help; and not __fish_seen_subcommand_from init ca roa aspa router-cert ta token keys bgp child publisher parent repository migrate publish backup restore status serve rsync-readers validate bench soak rtr-bench-cache hsm-bench-sign demo completions manpages help" -f -a "completions" -d 'Print the shell completion script for SHELL (bash, zsh, fish, elvish, powershell)'
complete -c anchorage -n "__fish_anchorage_using_subcommand help; and not __fish_seen_subcommand_from init ca roa aspa router-cert ta token keys bgp child publisher parent repository migrate publish backup restore status serve rsync-readers validate bench soak rtr-bench-cache hsm-bench-sign demo completions manpages help" -f -a "manpages" -d 'Write the man pages, one per command, into DIR (for packaging)'
complete -c anchorage -n "__fish_anchorage_using_subcommand help; and not __fish_seen_subcommand_from init ca roa aspa router-cert ta token keys bgp child publisher parent repository migrate publish backup restore status serve rsync-readers validate bench soak rtr-bench-cache hsm-bench-sign demo completions manpages help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c anchorage -n "__fish_anchorage_using_subcommand help; and __fish_seen_subcommand_from ca" -f -a "create" -d 'Create a hosted CA'
complete -c anchorage -n "__fish_anchorage_using_subcommand help; and __fish_seen_subcommand_from ca" -f -a "list" -d 'List CAs'
complete -c anchorage -n "__fish_anchorage_using_subcommand help; and __fish_seen_subcommand_from ca" -f -a "show" -d 'Show a CA'
complete -c anchorage -n "__fish_anchorage_using_subcommand help; and __fish_seen_subcommand_from ca" -f -a "delete" -d 'Delete a CA without children: revoke its certificate, withdraw its objects'
complete -c anchorage -n "__fish_anchorage_using_subcommand help; and __fish_seen_subcommand_from ca" -f -a "keyroll" -d 'Roll a CA\'s key (RFC 6489): start (a new key, certified, in its staging period), activate (every product reissued under the new key, the old one revoked), or show the keys and the next step. `serve` activates by itself once the staging period has passed'
complete -c anchorage -n "__fish_anchorage_using_subcommand help; and __fish_seen_subcommand_from ca" -f -a "contact" -d 'Set, show or remove a CA\'s contact: a vCard published as its Ghostbusters record (RFC 6493), reissued with its other objects'
complete -c anchorage -n "__fish_anchorage_using_subcommand help; and __fish_seen_subcommand_from ca" -f -a "update" -d 'Change a CA\'s resources: its parent reissues its certificate'
complete -c anchorage -n "__fish_anchorage_using_subcommand help; and __fish_seen_subcommand_from roa" -f -a "add" -d 'Authorise an origin AS for a prefix (a no-op if present)'
complete -c anchorage -n "__fish_anchorage_using_subcommand help; and __fish_seen_subcommand_from roa" -f -a "remove" -d 'Remove an authorisation'
complete -c anchorage -n "__fish_anchorage_using_subcommand help; and __fish_seen_subcommand_from roa" -f -a "import" -d 'Import ROA payloads from a CSV file: rpki-client\'s or Routinator\'s VRP CSV (ASN,IP Prefix,Max Length,...), or ASN,prefix[,maxLength]. All or nothing: a bad line refuses the whole file'
complete -c anchorage -n "__fish_anchorage_using_subcommand help; and __fish_seen_subcommand_from roa" -f -a "list" -d 'List a CA\'s ROA payloads'
complete -c anchorage -n "__fish_anchorage_using_subcommand help; and __fish_seen_subcommand_from aspa" -f -a "add" -d 'Set the ASPA of a customer AS: its provider ASes, replacing any listed before (one ASPA per customer AS)'
complete -c anchorage -n "__fish_anchorage_using_subcommand help; and __fish_seen_subcommand_from aspa" -f -a "remove" -d 'Remove the ASPA of a customer AS'
complete -c anchorage -n "__fish_anchorage_using_subcommand help; and __fish_seen_subcommand_from aspa" -f -a "list" -d 'List a CA\'s ASPAs'
complete -c anchorage -n "__fish_anchorage_using_subcommand help; and __fish_seen_subcommand_from router-cert" -f -a "add" -d 'Certify a router\'s key for an AS the CA holds, from the router\'s PKCS#10 request (PEM or DER, an ECDSA P-256 key signed with it)'
complete -c anchorage -n "__fish_anchorage_using_subcommand help; and __fish_seen_subcommand_from router-cert" -f -a "revoke" -d 'Revoke and withdraw a router certificate'
complete -c anchorage -n "__fish_anchorage_using_subcommand help; and __fish_seen_subcommand_from router-cert" -f -a "list" -d 'List a CA\'s router certificates'
complete -c anchorage -n "__fish_anchorage_using_subcommand help; and __fish_seen_subcommand_from ta" -f -a "keyroll" -d 'Roll the trust anchor\'s key (RFC 9691): start (a new key and certificate announced by TAK objects, its TAL written for distribution), activate after the staging period (the TA\'s children certified by the new key; `ta.tal` becomes the new key\'s), retire the old key once relying parties use the new TAL, cancel a start, or show the keys and the next step. Every step is taken by hand'
complete -c anchorage -n "__fish_anchorage_using_subcommand help; and __fish_seen_subcommand_from token" -f -a "create" -d 'Create a token; it is printed once and cannot be shown again'
complete -c anchorage -n "__fish_anchorage_using_subcommand help; and __fish_seen_subcommand_from token" -f -a "list" -d 'List tokens (never their secrets)'
complete -c anchorage -n "__fish_anchorage_using_subcommand help; and __fish_seen_subcommand_from token" -f -a "revoke" -d 'Revoke a token by its id; it stops working at once'
complete -c anchorage -n "__fish_anchorage_using_subcommand help; and __fish_seen_subcommand_from keys" -f -a "list" -d 'Every key: its backend, state, the CA and role that use it, and when it was made'
complete -c anchorage -n "__fish_anchorage_using_subcommand help; and __fish_seen_subcommand_from keys" -f -a "encrypt" -d 'Seal the software keys at rest with the secret the environment gives (ANCHORAGE_KEY_PASSPHRASE_FILE, ANCHORAGE_KEY_PASSPHRASE or ANCHORAGE_KEY_FILE), in place and crash-safely (run it again after an interruption). `serve` must be stopped; every command needs the same secret afterwards'
complete -c anchorage -n "__fish_anchorage_using_subcommand help; and __fish_seen_subcommand_from bgp" -f -a "load" -d 'Load a table of announcements (CSV `prefix,origin-asn`, or an MRT RIB dump, raw or gzip) into the data directory, replacing the last'
complete -c anchorage -n "__fish_anchorage_using_subcommand help; and __fish_seen_subcommand_from child" -f -a "add" -d 'Import an RFC 8183 child request; write the parent response'
complete -c anchorage -n "__fish_anchorage_using_subcommand help; and __fish_seen_subcommand_from child" -f -a "list" -d 'List delegated children and the certificates they hold'
complete -c anchorage -n "__fish_anchorage_using_subcommand help; and __fish_seen_subcommand_from child" -f -a "update" -d 'Change a child\'s entitlement; lost resources are taken back at once'
complete -c anchorage -n "__fish_anchorage_using_subcommand help; and __fish_seen_subcommand_from child" -f -a "remove" -d 'Remove a child and revoke its certificates'
complete -c anchorage -n "__fish_anchorage_using_subcommand help; and __fish_seen_subcommand_from publisher" -f -a "add" -d 'Import an RFC 8183 publisher request; write the repository response'
complete -c anchorage -n "__fish_anchorage_using_subcommand help; and __fish_seen_subcommand_from publisher" -f -a "list" -d 'List publishers'
complete -c anchorage -n "__fish_anchorage_using_subcommand help; and __fish_seen_subcommand_from publisher" -f -a "remove" -d 'Remove a publisher and withdraw everything it published'
complete -c anchorage -n "__fish_anchorage_using_subcommand help; and __fish_seen_subcommand_from parent" -f -a "request" -d 'Write the RFC 8183 child request for local CA HANDLE (to send to the parent)'
complete -c anchorage -n "__fish_anchorage_using_subcommand help; and __fish_seen_subcommand_from parent" -f -a "add" -d 'Import the parent\'s response: HANDLE becomes its child, and is created and certified by the first sync'
complete -c anchorage -n "__fish_anchorage_using_subcommand help; and __fish_seen_subcommand_from parent" -f -a "sync" -d 'Sync with the remote parent(s): entitlements, certificate, shrinking'
complete -c anchorage -n "__fish_anchorage_using_subcommand help; and __fish_seen_subcommand_from parent" -f -a "list" -d 'List remote parents and their last sync'
complete -c anchorage -n "__fish_anchorage_using_subcommand help; and __fish_seen_subcommand_from parent" -f -a "remove" -d 'Remove the remote parent of local CA HANDLE (it dropped the CA): the CA and everything it published are withdrawn'
complete -c anchorage -n "__fish_anchorage_using_subcommand help; and __fish_seen_subcommand_from repository" -f -a "request" -d 'Write the RFC 8183 publisher request (to send to the repository)'
complete -c anchorage -n "__fish_anchorage_using_subcommand help; and __fish_seen_subcommand_from repository" -f -a "add" -d 'Import the repository\'s response: CAs under remote parents publish there'
complete -c anchorage -n "__fish_anchorage_using_subcommand help; and __fish_seen_subcommand_from repository" -f -a "show" -d 'Show the remote repository and how the last push to it went'
complete -c anchorage -n "__fish_anchorage_using_subcommand help; and __fish_seen_subcommand_from repository" -f -a "remove" -d 'Remove the remote repository (after its CAs\' parents)'
