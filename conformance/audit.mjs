// Runs the graphql-http server audits against a GraphQL-over-HTTP endpoint and prints
// one JSON array: [{id, name, status: "ok" | "warn" | "error", reason, response}].
//   node audit.mjs http://127.0.0.1:8000/graphql
import { serverAudits } from "graphql-http";

const url = process.argv[2];
if (!url) {
  console.error("usage: node audit.mjs URL");
  process.exit(2);
}
const results = await Promise.all(serverAudits({ url }).map(({ fn }) => fn()));
const report = [];
for (const result of results) {
  const entry = { id: result.id, name: result.name, status: result.status };
  if (result.status !== "ok") {
    entry.reason = result.reason;
    entry.response = {
      status: result.response.status,
      contentType: result.response.headers.get("content-type"),
      body: await result.response.text(),
    };
  }
  report.push(entry);
}
console.log(JSON.stringify(report));
