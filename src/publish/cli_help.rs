//! The examples `pimfeed publish --help` shows.

pub const PUBLISH_EXAMPLES: &str = "\
Examples, in pim.toml:
  [publish]
  to = \"s3://acme-feeds/prod\"           # AWS S3: credentials from AWS_ACCESS_KEY_ID,
  region = \"eu-west-1\"                  #   AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN)
  public_url = \"https://acme-feeds.s3.eu-west-1.amazonaws.com/prod\"
  cache_control = \"public, max-age=300\" # the default
  keep = 10                             # releases kept for `pimfeed rollback`

  [publish]
  to = \"s3://feeds\"                     # Cloudflare R2 (or MinIO, any S3-compatible store)
  endpoint = \"https://ACCOUNT_ID.r2.cloudflarestorage.com\"
  region = \"auto\"

  [publish]
  to = \"/var/www/feeds\"                 # a folder a web server serves; each file is
                                        #   replaced atomically, on any file system

Then:
  pimfeed build && pimfeed publish
  pimfeed refresh && pimfeed publish    # from cron or a systemd timer
  pimfeed publish --format json         # for scripts: what was uploaded, each feed's URL

Exit codes: 0 published (or nothing to upload), 1 stopped by the guard, 2 the target could not
be read or written (wrong credentials, no such bucket, no build in feeds/).";
