// Registration: show the business fields only while "Business" is chosen. Without
// JavaScript they stay visible (and are ignored for an individual account).
document.addEventListener("DOMContentLoaded", () => {
  const business = document.querySelector(".business-fields");
  const radios = document.querySelectorAll('input[name="kind"]');
  if (!business || !radios.length) return;
  const update = () => {
    const chosen = document.querySelector('input[name="kind"]:checked');
    business.hidden = !chosen || chosen.value !== "business";
  };
  radios.forEach((radio) => radio.addEventListener("change", update));
  update();
});
