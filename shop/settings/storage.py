"""The default storage on S3-compatible object storage (django-storages), from the environment."""

import environ


def s3_storage(env: environ.Env) -> dict:
    """
    The ``STORAGES["default"]`` entry of a bucket: ``AWS_STORAGE_BUCKET_NAME`` and, for an
    endpoint of one's own (MinIO, Ceph, R2, ...), ``AWS_S3_ENDPOINT_URL``. Objects are private;
    a download is streamed by the shop or, with ``EXPORT_DOWNLOAD_REDIRECT``, redirected to a URL
    signed (SigV4) for ``AWS_QUERYSTRING_EXPIRE`` seconds. Credentials are not settings: boto3
    finds ``AWS_ACCESS_KEY_ID`` and ``AWS_SECRET_ACCESS_KEY`` in the environment, or an IAM role.
    """
    endpoint = env.str("AWS_S3_ENDPOINT_URL", default="") or None
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env.str("AWS_STORAGE_BUCKET_NAME"),
            "endpoint_url": endpoint,
            "region_name": env.str("AWS_S3_REGION_NAME", default="") or None,
            # A key prefix, so that one bucket can serve several shops.
            "location": env.str("AWS_LOCATION", default=""),
            # Path-style requests (endpoint/bucket/key) for an endpoint of one's own: MinIO needs them.
            "addressing_style": env.str("AWS_S3_ADDRESSING_STYLE", default="path" if endpoint else "")
            or None,
            "signature_version": env.str("AWS_S3_SIGNATURE_VERSION", default="s3v4"),
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": env.int("AWS_QUERYSTRING_EXPIRE", default=300),
            "file_overwrite": False,
        },
    }
