// `npm run sim` until the simulator's command line lands (issue: the simulator as a product).
console.log("citysense simulator: the scenario runner is not here yet; see README.md for what works today.");
