# `scones monitor`: report on what the endpoint captured (owner: monitoring).
# Point it at the capture destination on S3 (AWS or the emulator) or at a local folder:
#   make monitor MONITOR_S3_URI=s3://<bucket>/data-capture [MONITOR_ENDPOINT_URL=http://127.0.0.1:<port>]
#   make monitor MONITOR_DIR=path/to/capture
MONITOR_OUT ?= build/monitor
MONITOR_THRESHOLD ?= 0.93
MONITOR_S3_URI ?=
MONITOR_DIR ?=
MONITOR_ENDPOINT_URL ?=

.PHONY: monitor
monitor: | $(STAMP) ## The endpoint's capture report into build/monitor (MONITOR_S3_URI=s3://... [MONITOR_ENDPOINT_URL=...], or MONITOR_DIR= for a folder)
	@if [ -n "$(MONITOR_S3_URI)" ]; then \
	  $(BIN)/scones monitor --s3-uri "$(MONITOR_S3_URI)" \
	    $(if $(MONITOR_ENDPOINT_URL),--endpoint-url "$(MONITOR_ENDPOINT_URL)") \
	    --threshold $(MONITOR_THRESHOLD) --out "$(MONITOR_OUT)"; \
	elif [ -n "$(MONITOR_DIR)" ]; then \
	  $(BIN)/scones monitor --local-dir "$(MONITOR_DIR)" --threshold $(MONITOR_THRESHOLD) --out "$(MONITOR_OUT)"; \
	else \
	  echo "make monitor: set MONITOR_S3_URI=s3://<bucket>/<capture prefix> or MONITOR_DIR=<folder>" >&2; exit 2; \
	fi

