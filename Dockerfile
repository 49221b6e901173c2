# kuniq in a container: build a static binary, run it on a small base image.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -o /out/kuniq ./cmd/kuniq

FROM gcr.io/distroless/static-debian12
COPY --from=build /out/kuniq /usr/local/bin/kuniq
ENTRYPOINT ["/usr/local/bin/kuniq"]
CMD ["--help"]
