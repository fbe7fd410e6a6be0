// Signing out wipes this phone's storage (Clear-Site-Data, app/public/webapp.py), the phone diary's outbox
// included. On every page of a cooperative member, a sign-out first counts the diary entries not yet sent on
// this phone and, when there are some, asks before they are lost (the sign-out form's data-unsent-warning).
const PREFIX = "ocop-diary-";  // static/diary.js: one database per account

function unsentIn(name) {
  return new Promise((resolve) => {
    const opening = indexedDB.open(name);
    opening.onerror = () => resolve(0);
    opening.onsuccess = () => {
      const db = opening.result;
      if (!db.objectStoreNames.contains("outbox")) { db.close(); resolve(0); return; }
      const reading = db.transaction("outbox", "readonly").objectStore("outbox").getAll();
      reading.onsuccess = () => { db.close(); resolve(reading.result.filter((e) => e.status !== "sent").length); };
      reading.onerror = () => { db.close(); resolve(0); };
    };
  });
}

export async function unsentOnThisPhone() {
  if (!window.indexedDB || !indexedDB.databases) return 0;
  let count = 0;
  for (const { name } of await indexedDB.databases()) {
    if (name && name.startsWith(PREFIX)) count += await unsentIn(name);
  }
  return count;
}

document.querySelectorAll("form[data-unsent-warning]").forEach((form) => {
  form.addEventListener("submit", async (event) => {
    if (form.dataset.checked) return;
    event.preventDefault();
    let count = 0;
    try {
      count = await unsentOnThisPhone();
    } catch (unreadable) {
      // nothing readable: nothing to lose
    }
    if (count && !window.confirm(form.dataset.unsentWarning.replace("{count}", count))) return;
    form.dataset.checked = "1";
    form.submit();
  });
});
