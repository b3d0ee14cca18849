# The workspace as docker-compose.yml runs it: the TypeScript sources through tsx with the
# trustmesh-source condition, the same commands the READMEs give outside a container. An image
# for the demo mesh, not for production (that would run the compiled dist/ without dev tools).
FROM node:20-bookworm-slim

RUN npm install -g pnpm@10.34.9

WORKDIR /app
# The lockfile alone fetches every dependency, so editing a source does not redo this layer.
COPY pnpm-lock.yaml pnpm-workspace.yaml ./
RUN pnpm fetch
COPY . .
RUN pnpm install --offline --frozen-lockfile

# Mount points of the compose volumes: a named volume takes the owner and mode of the directory
# it is mounted on, so the node user can write the keys there, and no one else can read them.
RUN mkdir -p /var/lib/trustmesh/kek /var/lib/trustmesh/admin /var/lib/trustmesh/orders \
  && chown -R node:node /var/lib/trustmesh \
  && chmod 700 /var/lib/trustmesh/kek /var/lib/trustmesh/admin /var/lib/trustmesh/orders
USER node
