# Baton as a container image: a static binary on distroless, as a non-root user.
#
#   docker build -t baton .
#   docker run --rm -p 8080:8080 -e BATON_ADDR=0.0.0.0:8080 baton demo
#   docker run -p 8080:8080 -v baton-data:/data baton          # baton serve
#
# BATON_ADDR is the listen address: ":8080" for serve (set below). The demo
# listens on loopback unless told otherwise (its keys are public), so it needs
# BATON_ADDR=0.0.0.0:8080 to be reached through -p. The SQLite database and
# its secrets key file live in the volume /data (BATON_DB); for PostgreSQL set
# BATON_DATABASE_URL and BATON_SECRET_KEY instead. `baton --help` lists the
# rest of the environment.

# The build stage: Go as go.mod asks, the modules first so that they stay
# cached while the source changes.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
# The SQLite driver is pure Go (modernc.org/sqlite): no cgo, no libc.
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/baton ./cmd/baton \
 && mkdir /out/data

# The final image: CA certificates, time zones and /tmp (which the demo
# uses) from distroless/static, and nothing else.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/baton /usr/local/bin/baton
COPY --from=build --chown=65532:65532 /out/data /data
ENV BATON_ADDR=:8080 BATON_DB=/data/baton.db
VOLUME /data
EXPOSE 8080
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/baton"]
CMD ["serve"]
