# Data staging (scones prepare): CIFAR-100 bicycles and motorcycles as PNGs and .lst files in
# data/prepared/, and with DATA_BUCKET also in S3 (unchanged objects are skipped).
#   make data                                        the images shipped in data/, local files only
#   make data DATA_BUCKET=my-bucket [DATA_PREFIX=data] [DATA_ENDPOINT_URL=http://127.0.0.1:4588]
#   make data DATA_SOURCE=                           download the full official archive instead
DATA_SOURCE ?= data/cifar-100-python-bicycle-motorcycle.tar.gz
DATA_BUCKET ?=
DATA_PREFIX ?= data
DATA_ENDPOINT_URL ?=

.PHONY: data
data: | $(STAMP) ## Stage the images shipped in data/ into data/prepared (DATA_BUCKET= [DATA_PREFIX=data] [DATA_ENDPOINT_URL=] also uploads; DATA_SOURCE= downloads the full archive)
	$(BIN)/scones prepare $(if $(DATA_SOURCE),--source "$(DATA_SOURCE)") \
	  $(if $(DATA_BUCKET),--bucket "$(DATA_BUCKET)" --prefix "$(DATA_PREFIX)" \
	  $(if $(DATA_ENDPOINT_URL),--endpoint-url "$(DATA_ENDPOINT_URL)"),--no-upload)
