# The tutorial's deployment shape: 2 worker processes x 4 threads (gthread).
workers = 2
threads = 4
worker_class = "gthread"
accesslog = None
errorlog = "-"
loglevel = "warning"
