# hookgate's container image: a static binary on distroless, as a non-root
# user, with its state (the embedded NATS store and the spool) on /data.
#   docker build -t hookgate .
#   docker run -p 8080:8080 -p 8081:8081 -e HOOKGATE_ADMIN_TOKEN=… -v hookgate:/data hookgate
# docs/scaling-out.md explains the configuration and deploy/compose.yaml.

FROM golang:1.26 AS build
WORKDIR /src
# Modules first, so that a source change does not download them again.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
# Static (no libc, no loader), paths and symbols stripped; the same flags
# are checked by test/deploy_test.go.
ENV CGO_ENABLED=0
RUN go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/hookgate ./cmd/hookgate
# /data must belong to the runtime user: a new volume copies this owner.
RUN mkdir -p /out/data/nats /out/data/spool && chown -R 65532:65532 /out/data

# distroless/static: CA certificates, tzdata and /etc/passwd, nothing else.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/hookgate /usr/local/bin/hookgate
COPY --from=build --chown=65532:65532 /out/data /data
COPY deploy/image/hookgate.yaml /etc/hookgate/hookgate.yaml
USER 65532:65532
WORKDIR /data
VOLUME /data
# 8080 webhooks, /healthz, /readyz; 8081 admin API, metrics, operator page;
# 4222 the embedded NATS server, when HOOKGATE_NATS_LISTEN opens it.
EXPOSE 8080 8081 4222
ENTRYPOINT ["/usr/local/bin/hookgate", "serve"]
CMD ["-c", "/etc/hookgate/"]
