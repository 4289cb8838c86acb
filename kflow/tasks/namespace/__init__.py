"""Tasks that manage namespace files: ``UploadFiles``, ``DownloadFiles``, ``DeleteFiles``
(:mod:`kflow.storage.namespace` says where a run keeps each namespace's files)."""
