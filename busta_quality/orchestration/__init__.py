"""The runs that tie the parts together: ingest (land → gate → promote, layer by layer) and
quality-check (validate what is in the lake), and the GX checkpoint action that records a
plain GX client's run. The only tier that moves batches, writes gate results to the store,
renders Data Docs per command and hands results to alerting."""
